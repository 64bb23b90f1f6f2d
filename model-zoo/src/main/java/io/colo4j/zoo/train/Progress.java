package io.colo4j.zoo.train;

import java.io.PrintStream;
import java.util.Locale;

/**
 * Training progress: on a terminal one line redrawn with a carriage return (bar, loss, tokens/s, ETA);
 * elsewhere (a file, a pipe, a CI log) a plain line every {@code every} steps and at the end.
 */
final class Progress {
    private final PrintStream out;
    private final boolean terminal;
    private final long total;
    private final long first;
    private final long every;
    private final long tokensPerStep;
    private final long startNanos = System.nanoTime();
    private int lastWidth;
    private double avgLoss = Double.NaN;
    private Mfu mfu;

    Progress(PrintStream out, boolean terminal, long total, long first, long every, long tokensPerStep) {
        this.out = out;
        this.terminal = terminal;
        this.total = total;
        this.first = first;
        this.every = every > 0 ? every : Math.max(1, (total - first) / 20);
        this.tokensPerStep = tokensPerStep;
    }

    /** Also print model FLOPs utilisation next to tokens/s (null: not). */
    void showMfu(Mfu m) {
        this.mfu = m;
    }

    /** Whether the standard output is an interactive terminal. */
    static boolean stdoutIsTerminal() {
        java.io.Console c = System.console();
        return c != null && c.isTerminal();
    }

    void update(long completed, float loss, double lr, double gradNorm) {
        avgLoss = Double.isNaN(avgLoss) ? loss : avgLoss + 0.1 * (loss - avgLoss);
        double elapsed = (System.nanoTime() - startNanos) / 1e9;
        long done = completed - first;
        double perStep = done > 0 ? elapsed / done : 0;
        double tokPerSec = elapsed > 0 ? done * tokensPerStep / elapsed : 0;
        long remaining = total - completed;
        String eta = duration(remaining * perStep);
        if (terminal) {
            int barWidth = 24;
            int filled = total == 0 ? barWidth : (int) (barWidth * completed / total);
            String bar = "#".repeat(filled) + ".".repeat(barWidth - filled);
            String line = String.format(Locale.ROOT, "step %d/%d [%s] loss %.4f (avg %.4f) | lr %.2e | gnorm %.3f | %.0f tok/s%s | ETA %s",
                    completed, total, bar, loss, avgLoss, lr, gradNorm, tokPerSec,
                    mfu == null ? "" : String.format(Locale.ROOT, " | MFU %.3f", mfu.at(tokPerSec)), eta);
            int pad = Math.max(0, lastWidth - line.length());
            out.print("\r" + line + " ".repeat(pad));
            lastWidth = line.length();
            out.flush();
        } else if (done % every == 0 || completed == total || done == 1) {
            out.println(String.format(Locale.ROOT, "step %d/%d loss %.4f avg %.4f lr %.3e gnorm %.4f tok/s %.0f%s elapsed %s eta %s",
                    completed, total, loss, avgLoss, lr, gradNorm, tokPerSec,
                    mfu == null ? "" : String.format(Locale.ROOT, " mfu %.3f", mfu.at(tokPerSec)), duration(elapsed), eta));
            out.flush();
        }
    }

    /** Ends the progress line (terminal) and prints {@code message} on its own line. */
    void println(String message) {
        if (terminal && lastWidth > 0) {
            out.println();
            lastWidth = 0;
        }
        out.println(message);
        out.flush();
    }

    double elapsedSeconds() {
        return (System.nanoTime() - startNanos) / 1e9;
    }

    static String duration(double seconds) {
        if (!Double.isFinite(seconds) || seconds < 0) {
            return "?";
        }
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }
}
