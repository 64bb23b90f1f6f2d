package io.colo4j.rules;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A JSON tree whose every value and key remembers its line and column, so that a problem found while
 * validating (an unknown key, a bad pattern, a stride of 0) is reported where it is in the file, not
 * just where the parser stopped. Built with Jackson's streaming parser; its {@link JsonLocation}s give
 * the positions.
 */
final class LocatedJson {
    private static final JsonFactory FACTORY = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64).build())
            .build();

    private LocatedJson() {}

    sealed interface Node permits Obj, Arr, Str, Num, Bool, Null {
        Location location();

        /** For messages: "a string", "an object", ... */
        default String kind() {
            return switch (this) {
                case Obj o -> "an object";
                case Arr a -> "an array";
                case Str t -> "a string";
                case Num n -> "a number";
                case Bool b -> "a boolean";
                case Null n -> "null";
            };
        }
    }

    /** A key and its value; the key's own location is where an unknown key is reported. */
    record Field(String key, Location keyLocation, Node value) {}

    record Obj(Map<String, Field> fields, Location location) implements Node {}

    record Arr(List<Node> items, Location location) implements Node {}

    record Str(String value, Location location) implements Node {}

    record Num(Number value, boolean integral, String text, Location location) implements Node {}

    record Bool(boolean value, Location location) implements Node {}

    record Null(Location location) implements Node {}

    /** Parses a whole document; malformed JSON, duplicate keys and trailing content throw with their location. */
    static Node parse(String text, String source) {
        try (JsonParser p = FACTORY.createParser(text)) {
            JsonToken first = p.nextToken();
            if (first == null) {
                throw new RulesException(new Location(source, 1, 1), "malformed JSON: the file is empty");
            }
            Node root = read(p, source);
            if (p.nextToken() != null) {
                throw new RulesException(at(source, p.currentTokenLocation()),
                        "malformed JSON: unexpected content after the end of the document");
            }
            return root;
        } catch (JacksonException e) {
            throw new RulesException(at(source, e.getLocation()), "malformed JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new RulesException(new Location(source, 1, 1), "cannot read: " + e.getMessage(), e);
        }
    }

    private static Node read(JsonParser p, String source) throws IOException {
        Location here = at(source, p.currentTokenLocation());
        JsonToken t = p.currentToken();
        switch (t) {
            case START_OBJECT -> {
                Map<String, Field> fields = new LinkedHashMap<>();
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String key = p.currentName();
                    Location keyLocation = at(source, p.currentTokenLocation());
                    if (fields.containsKey(key)) {
                        throw new RulesException(keyLocation, "duplicate key '" + key + "' (first at "
                                + fields.get(key).keyLocation() + ")");
                    }
                    p.nextToken();
                    fields.put(key, new Field(key, keyLocation, read(p, source)));
                }
                return new Obj(fields, here);
            }
            case START_ARRAY -> {
                List<Node> items = new ArrayList<>();
                while (p.nextToken() != JsonToken.END_ARRAY) {
                    items.add(read(p, source));
                }
                return new Arr(items, here);
            }
            case VALUE_STRING -> {
                return new Str(p.getText(), here);
            }
            case VALUE_NUMBER_INT -> {
                return new Num(p.getNumberValue(), true, p.getText(), here);
            }
            case VALUE_NUMBER_FLOAT -> {
                return new Num(p.getNumberValue(), false, p.getText(), here);
            }
            case VALUE_TRUE, VALUE_FALSE -> {
                return new Bool(t == JsonToken.VALUE_TRUE, here);
            }
            case VALUE_NULL -> {
                return new Null(here);
            }
            default -> throw new RulesException(here, "malformed JSON: unexpected " + t);
        }
    }

    static Location at(String source, JsonLocation l) {
        if (l == null || l.getLineNr() < 1) {
            return Location.unknown(source);
        }
        return new Location(source, l.getLineNr(), l.getColumnNr());
    }
}
