package io.colo4j.tensor.comm;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What each rank says about the collective it is entering; exchanged before any data moves so that
 * mismatched calls fail on every rank with the same description instead of producing garbage.
 */
final class Collective {
    private Collective() {}

    enum Op {
        ALL_REDUCE("allReduce"),
        ALL_GATHER("allGather"),
        REDUCE_SCATTER("reduceScatter"),
        BROADCAST("broadcast"),
        ALL_TO_ALL("allToAll"),
        BARRIER("barrier"),
        SPLIT("split");

        final String label;

        Op(String label) {
            this.label = label;
        }

        static final Op[] VALUES = values();
    }

    /** Dims kept in a fixed-size wire header; beyond that a hash of the whole shape stands in. */
    static final int WIRE_DIMS = 10;
    /** Ints per wire header. */
    static final int WIRE_INTS = 6 + WIRE_DIMS;

    /**
     * One rank's view of a collective. {@code dims} holds the shape (for a decoded wire header only its
     * first {@link #WIRE_DIMS} dims; {@code ndim} and {@code shapeHash} cover the rest).
     */
    record Header(Op op, long seq, int ndim, int[] dims, int shapeHash, int arg0, int arg1) {
        static Header of(Op op, long seq, int[] shape, int arg0, int arg1) {
            return new Header(op, seq, shape.length, shape, Arrays.hashCode(shape), arg0, arg1);
        }

        boolean sameShape(Header o) {
            return ndim == o.ndim && shapeHash == o.shapeHash && Arrays.equals(dims, o.dims);
        }

        String shapeString() {
            if (dims.length == ndim) {
                return Arrays.toString(dims);
            }
            String head = Arrays.toString(dims);
            return head.substring(0, head.length() - 1) + ", ... (" + ndim + " dims)]";
        }

        void encode(int[] out, int at) {
            Arrays.fill(out, at, at + WIRE_INTS, 0);
            out[at] = op.ordinal();
            out[at + 1] = (int) seq;
            out[at + 2] = arg0;
            out[at + 3] = arg1;
            out[at + 4] = ndim;
            out[at + 5] = shapeHash;
            for (int i = 0; i < Math.min(ndim, WIRE_DIMS); i++) {
                out[at + 6 + i] = dims[i];
            }
        }

        static Header decode(int[] in, int at) {
            int opIndex = in[at];
            Op op = opIndex >= 0 && opIndex < Op.VALUES.length ? Op.VALUES[opIndex] : null;
            if (op == null) {
                throw new IllegalStateException("corrupt collective header (op " + opIndex + ")");
            }
            int ndim = in[at + 4];
            int[] dims = Arrays.copyOfRange(in, at + 6, at + 6 + Math.min(Math.max(ndim, 0), WIRE_DIMS));
            return new Header(op, in[at + 1], ndim, dims, in[at + 5], in[at + 2], in[at + 3]);
        }
    }

    /** Normalises a possibly negative dim; leaves an out-of-range dim as it is, for {@link #validate}. */
    static int normalizeDim(int dim, int rank) {
        return dim < 0 && dim + rank >= 0 ? dim + rank : dim;
    }

    /**
     * Checks that all ranks' headers fit together; every rank runs this on the same array and so throws the
     * same complaint (only "on rank r" differs). {@code where} is e.g. "rank 1 of 4".
     */
    static void validate(Header[] all, int rank, String where) {
        Header mine = all[rank];
        int n = all.length;
        String name = mine.op.label;
        for (Header h : all) {
            if (h.op != mine.op) {
                throw mismatch(mine, rank, where, "ranks called different collectives: " + list(all, x -> x.op.label + " (#" + (x.seq + 1) + ")"));
            }
        }
        switch (mine.op) {
            case BARRIER -> {
                return;
            }
            case SPLIT -> {
                for (int r = 0; r < n; r++) {
                    if (all[r].arg0 < 0) {
                        throw mismatch(mine, rank, where, "rank " + r + " passed color " + all[r].arg0 + "; colors must be >= 0");
                    }
                }
                return;
            }
            default -> { }
        }
        for (Header h : all) {
            if (!h.sameShape(mine)) {
                throw mismatch(mine, rank, where, "shapes differ across ranks: " + list(all, Header::shapeString));
            }
        }
        for (Header h : all) {
            if (h.arg0 != mine.arg0 || h.arg1 != mine.arg1) {
                throw mismatch(mine, rank, where, "arguments differ across ranks: " + list(all, x -> args(x)) + shapes(all));
            }
        }
        int nd = mine.ndim;
        switch (mine.op) {
            case ALL_GATHER -> checkDim(mine, rank, where, "dim", mine.arg0, nd, 1, all);
            case REDUCE_SCATTER -> checkDim(mine, rank, where, "dim", mine.arg0, nd, n, all);
            case ALL_TO_ALL -> {
                checkDim(mine, rank, where, "splitDim", mine.arg0, nd, n, all);
                checkDim(mine, rank, where, "concatDim", mine.arg1, nd, 1, all);
            }
            case BROADCAST -> {
                if (mine.arg0 < 0 || mine.arg0 >= n) {
                    throw mismatch(mine, rank, where, "root " + mine.arg0 + " is not a rank of this " + n + "-rank group" + shapes(all));
                }
            }
            default -> { }
        }
    }

    private static void checkDim(Header mine, int rank, String where, String what, int dim, int nd, int divisor, Header[] all) {
        if (dim < 0 || dim >= nd) {
            throw mismatch(mine, rank, where, what + " " + dim + " is out of range for a " + nd + "-d tensor" + shapes(all));
        }
        if (divisor > 1) {
            if (dim >= mine.dims.length) {
                return; // beyond the wire header; the local shape check catches it
            }
            int size = mine.dims[dim];
            if (size % divisor != 0) {
                throw mismatch(mine, rank, where, what + " " + dim + " has size " + size + ", not divisible by the " + divisor + " ranks" + shapes(all));
            }
        }
    }

    private static String args(Header h) {
        return switch (h.op) {
            case ALL_GATHER, REDUCE_SCATTER -> "dim=" + h.arg0;
            case BROADCAST -> "root=" + h.arg0;
            case ALL_TO_ALL -> "splitDim=" + h.arg0 + " concatDim=" + h.arg1;
            default -> h.arg0 + "," + h.arg1;
        };
    }

    private static String shapes(Header[] all) {
        Header first = all[0];
        boolean same = true;
        for (Header h : all) {
            same &= h.sameShape(first);
        }
        return same ? " (shape " + first.shapeString() + " on every rank)" : " (shapes: " + list(all, Header::shapeString) + ")";
    }

    private static String list(Header[] all, java.util.function.Function<Header, String> f) {
        List<String> parts = new ArrayList<>();
        for (int r = 0; r < all.length; r++) {
            parts.add("rank " + r + " " + f.apply(all[r]));
        }
        return String.join(", ", parts);
    }

    private static CommMismatchException mismatch(Header mine, int rank, String where, String problem) {
        return new CommMismatchException(mine.op.label, rank,
                "colo4j comm: " + mine.op.label + " (#" + (mine.seq + 1) + ") on " + where + ": " + problem);
    }

    // ---- geometry ------------------------------------------------------------------------------------

    /** Product of the dims before {@code dim}. */
    static long outer(int[] shape, int dim) {
        long p = 1;
        for (int i = 0; i < dim; i++) {
            p *= shape[i];
        }
        return p;
    }

    /** Product of the dims after {@code dim}. */
    static long inner(int[] shape, int dim) {
        long p = 1;
        for (int i = dim + 1; i < shape.length; i++) {
            p *= shape[i];
        }
        return p;
    }
}
