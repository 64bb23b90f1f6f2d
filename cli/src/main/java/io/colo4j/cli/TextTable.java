package io.colo4j.cli;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/** Rows of cells printed in aligned columns: text columns left-aligned, the columns marked numeric right-aligned. */
final class TextTable {
    private final boolean[] numeric;
    private final List<String[]> rows = new ArrayList<>();

    /** Column headers; a header starting with '>' marks a right-aligned (numeric) column (the '>' is not printed). */
    TextTable(String... headers) {
        numeric = new boolean[headers.length];
        String[] cells = new String[headers.length];
        for (int i = 0; i < headers.length; i++) {
            numeric[i] = headers[i].startsWith(">");
            cells[i] = numeric[i] ? headers[i].substring(1) : headers[i];
        }
        rows.add(cells);
    }

    TextTable row(Object... cells) {
        if (cells.length != numeric.length) {
            throw new IllegalArgumentException("a row of " + cells.length + " cells in a table of " + numeric.length + " columns");
        }
        String[] text = new String[cells.length];
        for (int i = 0; i < cells.length; i++) {
            text[i] = String.valueOf(cells[i]);
        }
        rows.add(text);
        return this;
    }

    void print(PrintStream out, String indent) {
        int[] widths = new int[numeric.length];
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                widths[i] = Math.max(widths[i], row[i].length());
            }
        }
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder(indent);
            for (int i = 0; i < row.length; i++) {
                String pad = " ".repeat(widths[i] - row[i].length());
                line.append(i == 0 ? "" : "  ").append(numeric[i] ? pad + row[i] : row[i] + pad);
            }
            out.println(line.toString().stripTrailing());
        }
    }
}
