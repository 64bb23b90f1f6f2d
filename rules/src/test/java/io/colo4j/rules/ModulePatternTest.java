package io.colo4j.rules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class ModulePatternTest {

    @ParameterizedTest(name = "{0} ~ {1} -> {2}")
    @CsvSource(delimiter = '|', value = {
        // exact, whole paths only
        "transformer.h.0.mlp.c_fc      | transformer.h.0.mlp.c_fc          | true",
        "transformer.h.0.mlp.c_fc      | transformer.h.0.mlp.c_fc.x        | false",
        "transformer.h.0.mlp.c_fc      | x.transformer.h.0.mlp.c_fc        | false",
        // never substrings: the ColossalAI example's c_proj bug
        "c_proj                        | transformer.h.0.mlp.c_proj        | false",
        "c_proj                        | c_proj                            | true",
        "transformer.h.*.attn.c_proj   | transformer.h.0.mlp.c_proj        | false",
        "transformer.h.*.attn.c_proj   | transformer.h.11.attn.c_proj      | true",
        "h.*.mlp                       | transformer.h.0.mlp               | false",
        "mlp.c_fc                      | mlp.c_fcx                         | false",
        "mlp.c_fc                      | mlp.xc_fc                         | false",
        // * is exactly one segment
        "transformer.h.*.mlp           | transformer.h.0.mlp               | true",
        "transformer.h.*.mlp           | transformer.h.mlp                 | false",
        "transformer.h.*.mlp           | transformer.h.0.1.mlp             | false",
        "*                             | wte                               | true",
        "*                             | transformer.wte                   | false",
        "*                             | ''                                | false",
        // ** is any number of segments, including none
        "**.c_proj                     | transformer.h.0.mlp.c_proj        | true",
        "**.c_proj                     | c_proj                            | true",
        "**.c_proj                     | transformer.h.0.mlp.c_proj_x      | false",
        "transformer.**.c_fc           | transformer.c_fc                  | true",
        "transformer.**.c_fc           | transformer.h.3.mlp.c_fc          | true",
        "transformer.**                | transformer                       | true",
        "transformer.**                | transformerx.h                    | false",
        "**                            | ''                                | true",
        "**                            | a.b.c                             | true",
        "**.h.*.**.c_fc                | transformer.h.0.mlp.c_fc          | true",
        "**.h.*.**.c_fc                | transformer.h.mlp.c_fc            | true",
        "**.h.*.**.c_fc                | transformer.h.c_fc                | false",
        // * inside a segment stays inside it
        "**.ln_*                       | transformer.h.0.ln_1              | true",
        "**.ln_*                       | transformer.ln_f                  | true",
        "**.ln_*                       | transformer.h.0.ln_1.x            | false",
        "**.ln_*                       | transformer.xln_1                 | false",
        "transformer.ln_*              | transformer.h.0.ln_1              | false",
        "*_proj                        | c_proj                            | true",
        // {a,b}
        "transformer.h.*.{attn,mlp}.c_proj | transformer.h.0.attn.c_proj  | true",
        "transformer.h.*.{attn,mlp}.c_proj | transformer.h.0.mlp.c_proj   | true",
        "transformer.h.*.{attn,mlp}.c_proj | transformer.h.0.attnmlp.c_proj | false",
        "transformer.{wte,wpe}         | transformer.wpe                   | true",
        "transformer.{wte,wpe}         | transformer.wpex                  | false",
        "c_{fc,proj}                   | c_proj                            | true",
        "c_{fc,proj}                   | c_attn                            | false",
        "layer-{1,2}                   | layer-2                           | true",
    })
    void globsMatchWholeSegments(String glob, String path, boolean expected) {
        String p = path.equals("''") ? "" : path;
        assertThat(ModulePattern.glob(glob).matches(p)).as("%s ~ '%s'", glob, p).isEqualTo(expected);
    }

    @ParameterizedTest(name = "regex {0} ~ {1} -> {2}")
    @CsvSource(delimiter = ';', value = {
        "transformer\\.h\\.(0|1)\\.mlp\\.c_fc  ; transformer.h.1.mlp.c_fc   ; true",
        "transformer\\.h\\.(0|1)\\.mlp\\.c_fc  ; transformer.h.10.mlp.c_fc  ; false",
        // anchored: a regex that would find a substring does not match the whole path
        "c_proj                               ; transformer.h.0.mlp.c_proj ; false",
        "mlp\\.c_proj                         ; transformer.h.0.mlp.c_proj ; false",
        ".*mlp\\.c_proj                       ; transformer.h.0.mlp.c_proj ; true",
        "transformer\\.h\\.\\d+               ; transformer.h.3.attn       ; false",
        "^transformer\\.h\\.\\d+$             ; transformer.h.3            ; true",
    })
    void regexesAreAnchored(String regex, String path, boolean expected) {
        assertThat(ModulePattern.regex(regex).matches(path)).isEqualTo(expected);
    }

    @ParameterizedTest(name = "bad glob {0} at {1}")
    @CsvSource(delimiter = '|', value = {
        "a..b          | 2  | empty segment",
        ".a            | 0  | empty segment",
        "a.            | 2  | empty segment",
        "a.b**         | 3  | '**' must be a whole segment",
        "***           | 0  | '**' must be a whole segment",
        "a.{b,c        | 2  | unclosed '{'",
        "a.{b,,c}      | 5  | empty alternative",
        "a.{}          | 3  | empty alternative",
        "a.{b,{c}}     | 5  | nested '{'",
        "a.b}          | 3  | outside {...}",
        "a.b c         | 3  | character ' '",
        "a.b[0]        | 3  | character '['",
        "a/b           | 1  | character '/'",
        "a.{b*,c}      | 4  | '*' inside {...}",
    })
    void badGlobsSayWhere(String glob, int index, String what) {
        assertThatThrownBy(() -> ModulePattern.glob(glob))
                .isInstanceOf(ModulePattern.PatternException.class)
                .hasMessageContaining(what)
                .hasMessageContaining("'" + glob + "'")
                .satisfies(e -> assertThat(((ModulePattern.PatternException) e).index()).isEqualTo(index));
    }

    @Test
    void emptyPatternsAreRejected() {
        assertThatThrownBy(() -> ModulePattern.glob("")).hasMessageContaining("empty");
        assertThatThrownBy(() -> ModulePattern.regex("")).hasMessageContaining("empty");
    }

    @Test
    void badRegexSaysWhere() {
        assertThatThrownBy(() -> ModulePattern.regex("transformer\\.h\\.(0|1"))
                .isInstanceOf(ModulePattern.PatternException.class)
                .hasMessageContaining("bad regex")
                .hasMessageContaining("Unclosed group");
    }
}
