package io.colo4j.cli.fuzz;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * What one input's run printed. Commands print to System.out/err as well as to picocli's writers, from their own
 * thread and from the rank threads it starts; while installed, System.out and System.err send each thread's
 * bytes to the capture of the run that started it (an inheritable thread-local), so a run that hangs and keeps
 * printing cannot pollute the next input's, and a run's output never reaches the terminal.
 */
final class CapturedOutput {
    /** Enough to classify and to show a failure; a chatty run is cut there rather than filling the heap. */
    private static final int LIMIT = 1 << 20;
    private static final InheritableThreadLocal<CapturedOutput> CURRENT = new InheritableThreadLocal<>();

    final OutputStream out = new Bounded();
    final OutputStream err = new Bounded();

    /** Routes this thread's (and its future children's) System.out/err here. */
    void route() {
        CURRENT.set(this);
    }

    String out() {
        return out.toString();
    }

    String err() {
        return err.toString();
    }

    /** System.out and System.err replaced by routing streams until {@link #close()}; unrouted threads print as before. */
    static final class Installed implements AutoCloseable {
        private final PrintStream oldOut = System.out;
        private final PrintStream oldErr = System.err;

        Installed() {
            System.setOut(new PrintStream(new Router(oldOut, false), true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(new Router(oldErr, true), true, StandardCharsets.UTF_8));
        }

        @Override
        public void close() {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    private static final class Router extends OutputStream {
        private final PrintStream fallback;
        private final boolean err;

        Router(PrintStream fallback, boolean err) {
            this.fallback = fallback;
            this.err = err;
        }

        private OutputStream target() {
            CapturedOutput c = CURRENT.get();
            return c == null ? fallback : err ? c.err : c.out;
        }

        @Override
        public void write(int b) throws java.io.IOException {
            target().write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws java.io.IOException {
            target().write(b, off, len);
        }

        @Override
        public void flush() throws java.io.IOException {
            target().flush();
        }
    }

    private static final class Bounded extends ByteArrayOutputStream {
        @Override
        public synchronized void write(int b) {
            if (count < LIMIT) {
                super.write(b);
            }
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) {
            super.write(b, off, Math.min(len, Math.max(0, LIMIT - count)));
        }

        @Override
        public synchronized String toString() {
            return toString(StandardCharsets.UTF_8);
        }
    }
}
