package io.colo4j.tensor.comm;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;

/**
 * Open MPI 4.x (libmpi.so.40) through java.lang.foreign, no native code of ours. Handles are the
 * addresses of Open MPI's predefined global objects ({@code MPI_COMM_WORLD == &ompi_mpi_comm_world}, ...),
 * as its mpi.h defines them. Every entry point returns an MPI error code; {@link #check} turns a failure
 * into a {@link CommException} with MPI's own text.
 */
@SuppressWarnings("restricted")
final class Mpi {
    static final int SUCCESS = 0;
    static final int THREAD_MULTIPLE = 3;
    static final int UNDEFINED = -32766;
    static final int MAX_ERROR_STRING = 256;
    static final MemorySegment IN_PLACE = MemorySegment.ofAddress(1);
    static final MemorySegment STATUS_IGNORE = MemorySegment.NULL;

    private static volatile Mpi instance;

    final MemorySegment commWorld;
    final MemorySegment floatType;
    final MemorySegment intType;
    final MemorySegment opSum;
    final MemorySegment errorsReturn;
    final MemorySegment requestNull;

    private final MethodHandle initThread;
    private final MethodHandle initialized;
    private final MethodHandle finalized;
    private final MethodHandle finalizeFn;
    private final MethodHandle commRank;
    private final MethodHandle commSize;
    private final MethodHandle commSetErrhandler;
    private final MethodHandle errorString;
    private final MethodHandle allreduce;
    private final MethodHandle allgather;
    private final MethodHandle reduceScatter;
    private final MethodHandle reduce;
    private final MethodHandle bcast;
    private final MethodHandle alltoall;
    private final MethodHandle barrier;
    private final MethodHandle commSplit;
    private final MethodHandle commFree;
    private final MethodHandle abort;
    private final MethodHandle isend;
    private final MethodHandle irecv;
    private final MethodHandle testsome;
    private final MethodHandle cancel;
    private final MethodHandle requestFree;
    private final MethodHandle typeContiguous;
    private final MethodHandle typeCreateResized;
    private final MethodHandle typeCommit;
    private final MethodHandle typeFree;
    private final MethodHandle getLibraryVersion;

    private Mpi(SymbolLookup lib) {
        Linker linker = Linker.nativeLinker();
        commWorld = symbol(lib, "ompi_mpi_comm_world");
        floatType = symbol(lib, "ompi_mpi_float");
        intType = symbol(lib, "ompi_mpi_int");
        opSum = symbol(lib, "ompi_mpi_op_sum");
        errorsReturn = symbol(lib, "ompi_mpi_errors_return");
        requestNull = symbol(lib, "ompi_request_null");
        FunctionDescriptor p = FunctionDescriptor.of(JAVA_INT, ADDRESS);
        initThread = fn(linker, lib, "MPI_Init_thread", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS));
        initialized = fn(linker, lib, "MPI_Initialized", p);
        finalized = fn(linker, lib, "MPI_Finalized", p);
        finalizeFn = fn(linker, lib, "MPI_Finalize", FunctionDescriptor.of(JAVA_INT));
        commRank = fn(linker, lib, "MPI_Comm_rank", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        commSize = fn(linker, lib, "MPI_Comm_size", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        commSetErrhandler = fn(linker, lib, "MPI_Comm_set_errhandler", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        errorString = fn(linker, lib, "MPI_Error_string", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
        allreduce = fn(linker, lib, "MPI_Allreduce",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
        allgather = fn(linker, lib, "MPI_Allgather",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS));
        reduceScatter = fn(linker, lib, "MPI_Reduce_scatter",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
        reduce = fn(linker, lib, "MPI_Reduce",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS));
        bcast = fn(linker, lib, "MPI_Bcast", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
        alltoall = fn(linker, lib, "MPI_Alltoall",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS));
        barrier = fn(linker, lib, "MPI_Barrier", p);
        commSplit = fn(linker, lib, "MPI_Comm_split", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS));
        commFree = fn(linker, lib, "MPI_Comm_free", p);
        abort = fn(linker, lib, "MPI_Abort", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        isend = fn(linker, lib, "MPI_Isend",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
        irecv = fn(linker, lib, "MPI_Irecv",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
        testsome = fn(linker, lib, "MPI_Testsome", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
        cancel = fn(linker, lib, "MPI_Cancel", p);
        requestFree = fn(linker, lib, "MPI_Request_free", p);
        typeContiguous = fn(linker, lib, "MPI_Type_contiguous", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
        typeCreateResized = fn(linker, lib, "MPI_Type_create_resized",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS));
        typeCommit = fn(linker, lib, "MPI_Type_commit", p);
        typeFree = fn(linker, lib, "MPI_Type_free", p);
        getLibraryVersion = fn(linker, lib, "MPI_Get_library_version", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    }

    /**
     * Loads libmpi.so.40 once. It is dlopen'ed with RTLD_NOW | RTLD_GLOBAL first: Open MPI's plugins are not
     * linked against libmpi / libopen-pal and only resolve their symbols when those are global.
     */
    static Mpi load() {
        Mpi m = instance;
        if (m != null) {
            return m;
        }
        synchronized (Mpi.class) {
            if (instance == null) {
                instance = new Mpi(openLibrary());
            }
            return instance;
        }
    }

    private static SymbolLookup openLibrary() {
        String name = System.getProperty("colo4j.mpi.library", "libmpi.so.40");
        Linker linker = Linker.nativeLinker();
        SymbolLookup libc = linker.defaultLookup();
        MethodHandle dlopen = linker.downcallHandle(libc.find("dlopen").orElseThrow(
                () -> new CommException("init", -1, "colo4j comm: dlopen not found in the C library")),
                FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT));
        MethodHandle dlerror = linker.downcallHandle(libc.find("dlerror").orElseThrow(),
                FunctionDescriptor.of(ADDRESS));
        final int rtldNow = 2;
        final int rtldGlobal = 0x100;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment handle = (MemorySegment) dlopen.invokeExact(arena.allocateFrom(name), rtldNow | rtldGlobal);
            if (handle.address() == 0) {
                MemorySegment err = (MemorySegment) dlerror.invokeExact();
                String why = err.address() == 0 ? "unknown error" : err.reinterpret(4096).getString(0);
                throw new CommException("init", -1, "colo4j comm: cannot load Open MPI (" + name + "): " + why
                        + ". Install it with bin/install-deps (Debian packages openmpi-bin libopenmpi3).");
            }
        } catch (CommException e) {
            throw e;
        } catch (Throwable t) {
            throw new CommException("init", -1, "colo4j comm: cannot load Open MPI (" + name + "): " + t, t);
        }
        return SymbolLookup.libraryLookup(name, Arena.global());
    }

    private static MemorySegment symbol(SymbolLookup lib, String name) {
        return lib.find(name).orElseThrow(() -> new CommException("init", -1,
                "colo4j comm: symbol " + name + " not found in libmpi; colo4j needs Open MPI 4.x (libmpi.so.40)"));
    }

    private static MethodHandle fn(Linker linker, SymbolLookup lib, String name, FunctionDescriptor d) {
        return linker.downcallHandle(symbol(lib, name), d);
    }

    // ---- calls (each returns the MPI error code) ---------------------------------------------------------------

    int initThread(int required, MemorySegment provided) {
        try {
            return (int) initThread.invokeExact(MemorySegment.NULL, MemorySegment.NULL, required, provided);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    boolean isInitialized() {
        return flag(initialized);
    }

    boolean isFinalized() {
        return flag(finalized);
    }

    private boolean flag(MethodHandle h) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_INT);
            int rc = (int) h.invokeExact(out);
            return rc == SUCCESS && out.get(JAVA_INT, 0) != 0;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    int finalizeMpi() {
        try {
            return (int) finalizeFn.invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    int commRank(MemorySegment comm, MemorySegment out) {
        try {
            return (int) commRank.invokeExact(comm, out);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    int commSize(MemorySegment comm, MemorySegment out) {
        try {
            return (int) commSize.invokeExact(comm, out);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    int setErrorsReturn(MemorySegment comm) {
        try {
            return (int) commSetErrhandler.invokeExact(comm, errorsReturn);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** MPI's text for an error code. */
    String errorString(int code) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(MAX_ERROR_STRING + 1);
            MemorySegment len = a.allocate(JAVA_INT);
            int rc = (int) errorString.invokeExact(code, buf, len);
            if (rc != SUCCESS) {
                return "MPI error " + code;
            }
            return buf.getString(0, StandardCharsets.US_ASCII);
        } catch (Throwable t) {
            return "MPI error " + code + " (" + t + ")";
        }
    }

    String libraryVersion() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(8192);
            MemorySegment len = a.allocate(JAVA_INT);
            int rc = (int) getLibraryVersion.invokeExact(buf, len);
            return rc == SUCCESS ? buf.getString(0).strip() : "?";
        } catch (Throwable t) {
            return "?";
        }
    }

    int allreduce(MemorySegment send, MemorySegment recv, int count, MemorySegment type, MemorySegment op, MemorySegment comm) {
        try {
            return (int) allreduce.invokeExact(send, recv, count, type, op, comm);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    int allgather(MemorySegment send, int sendCount, MemorySegment sendType, MemorySegment recv, int recvCount,
                  MemorySegment recvType, MemorySegment comm) {
        try {
            return (int) allgather.invokeExact(send, sendCount, sendType, recv, recvCount, recvType, comm);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * MPI_Reduce_scatter rather than MPI_Reduce_scatter_block: Open MPI 4.1 only has the linear reduce-then-
     * scatter for the block variant, while this one gets the tuned ring / recursive-halving algorithms (3x faster
     * at 16 MiB on 2 ranks, the same as the C call measured side by side).
     */
    int reduceScatter(MemorySegment send, MemorySegment recv, MemorySegment recvCounts, MemorySegment type,
                      MemorySegment op, MemorySegment comm) {
        try {
            return (int) reduceScatter.invokeExact(send, recv, recvCounts, type, op, comm);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    int reduce(MemorySegment send, MemorySegment recv, int count, MemorySegment type, MemorySegment op, int root,
               MemorySegment comm) {
        try {
            return (int) reduce.invokeExact(send, recv, count, type, op, root, comm);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    int bcast(MemorySegment buf, int count, MemorySegment type, int root, MemorySegment comm) {
        try {
            return (int) bcast.invokeExact(buf, count, type, root, comm);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    int alltoall(MemorySegment send, int sendCount, MemorySegment sendType, MemorySegment recv, int recvCount,
                 MemorySegment recvType, MemorySegment comm) {
        try {
            return (int) alltoall.invokeExact(send, sendCount, sendType, recv, recvCount, recvType, comm);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    int barrier(MemorySegment comm) {
        try {
            return (int) barrier.invokeExact(comm);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    int commSplit(MemorySegment comm, int color, int key, MemorySegment newComm) {
        try {
            return (int) commSplit.invokeExact(comm, color, key, newComm);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    int commFree(MemorySegment commPtr) {
        try {
            return (int) commFree.invokeExact(commPtr);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    int abort(MemorySegment comm, int code) {
        try {
            return (int) abort.invokeExact(comm, code);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    int isend(MemorySegment buf, int count, MemorySegment type, int dest, int tag, MemorySegment comm, MemorySegment req) {
        try {
            return (int) isend.invokeExact(buf, count, type, dest, tag, comm, req);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    int irecv(MemorySegment buf, int count, MemorySegment type, int source, int tag, MemorySegment comm, MemorySegment req) {
        try {
            return (int) irecv.invokeExact(buf, count, type, source, tag, comm, req);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    int testsome(int count, MemorySegment requests, MemorySegment outCount, MemorySegment indices) {
        try {
            return (int) testsome.invokeExact(count, requests, outCount, indices, STATUS_IGNORE);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    int cancel(MemorySegment req) {
        try {
            return (int) cancel.invokeExact(req);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    int requestFree(MemorySegment req) {
        try {
            return (int) requestFree.invokeExact(req);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    int typeContiguous(int count, MemorySegment oldType, MemorySegment newType) {
        try {
            return (int) typeContiguous.invokeExact(count, oldType, newType);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    int typeCreateResized(MemorySegment oldType, long lb, long extent, MemorySegment newType) {
        try {
            return (int) typeCreateResized.invokeExact(oldType, lb, extent, newType);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    int typeCommit(MemorySegment typePtr) {
        try {
            return (int) typeCommit.invokeExact(typePtr);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    int typeFree(MemorySegment typePtr) {
        try {
            return (int) typeFree.invokeExact(typePtr);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }
}
