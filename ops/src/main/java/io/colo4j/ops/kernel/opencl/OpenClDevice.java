package io.colo4j.ops.kernel.opencl;

import static org.jocl.CL.CL_MEM_READ_WRITE;
import static org.jocl.CL.CL_MEM_USE_HOST_PTR;
import static org.jocl.CL.CL_PROGRAM_BUILD_LOG;
import static org.jocl.CL.CL_CONTEXT_PLATFORM;
import static org.jocl.CL.clBuildProgram;
import static org.jocl.CL.clCreateBuffer;
import static org.jocl.CL.clCreateCommandQueue;
import static org.jocl.CL.clCreateContext;
import static org.jocl.CL.clCreateKernel;
import static org.jocl.CL.clCreateProgramWithSource;
import static org.jocl.CL.clEnqueueNDRangeKernel;
import static org.jocl.CL.clEnqueueReadBuffer;
import static org.jocl.CL.clEnqueueWriteBuffer;
import static org.jocl.CL.clFinish;
import static org.jocl.CL.clGetProgramBuildInfo;
import static org.jocl.CL.clReleaseCommandQueue;
import static org.jocl.CL.clReleaseContext;
import static org.jocl.CL.clReleaseKernel;
import static org.jocl.CL.clReleaseMemObject;
import static org.jocl.CL.clReleaseProgram;
import static org.jocl.CL.clSetKernelArg;

import io.colo4j.tensor.Storage;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.ref.Cleaner;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_command_queue;
import org.jocl.cl_context;
import org.jocl.cl_context_properties;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;
import org.jocl.cl_program;

/**
 * One OpenCL device in use: its context, the colo4j program (built once, here, and cached for the life of the
 * device), a command queue and kernel objects per calling thread (kernel arguments are per object, so threads
 * never share one), and the registry of device buffers mirroring tensor storage.
 *
 * <p><b>Residency.</b> Each {@link Storage} a kernel touches gets one {@link ClMirror} (one cl_mem for the whole
 * storage; views pass their element offset to the kernels) that lives as long as the storage: released by
 * {@link Storage#free()}, or, for storage from a {@code MemoryScope}, by the first backend call after the scope
 * closed ({@link #sweep()}), or by a cleaner when the storage is dropped. Every backend call finishes its queue
 * before returning, so no device work ever outlives the call that enqueued it and host memory freed after it
 * can never be touched by the device.
 *
 * <p><b>Zero-copy.</b> On devices that share host memory (PoCL on the CPU) a mirror is a
 * {@code CL_MEM_USE_HOST_PTR} buffer over the storage's own segment, verified once per device by
 * {@link #probeZeroCopy()}: host and device then see the same bytes and no transfer ever happens. Elsewhere (GPUs)
 * a mirror is a device allocation kept coherent by {@link ClMirror}'s host-newer / device-newer protocol.
 */
final class OpenClDevice implements AutoCloseable {
    private static final Cleaner CLEANER = Cleaner.create();
    static final String SOURCE_RESOURCE = "/io/colo4j/ops/kernel/opencl/colo4j.cl";

    final OpenCl.DeviceInfo info;
    final cl_context context;
    final int vectorWidth;
    final int rowWorkItems;
    final String buildOptions;
    final String source;
    final cl_program program;
    final double buildMillis;
    final boolean zeroCopy;
    final cl_mem dummy;

    private final ThreadLocal<Lane> lanes = new ThreadLocal<>();
    private final Set<Lane> allLanes = ConcurrentHashMap.newKeySet();
    private final Object registryLock = new Object();
    private final Map<MemorySegment.Scope, Set<ClMirror>> byScope = new HashMap<>();
    /** Scopes that hold (or held) several mirrors, like a training step's: checked on every call. */
    private final Set<MemorySegment.Scope> multiScopes = new java.util.HashSet<>();
    /** Scopes of one storage (long-lived tensors get an arena each): checked a few per call, round robin. */
    private final java.util.ArrayDeque<MemorySegment.Scope> singleScopes = new java.util.ArrayDeque<>();
    private static final int SINGLES_PER_SWEEP = 32;
    private long liveMirrors;
    private long liveBytes;
    private volatile boolean closed;
    private final java.util.concurrent.atomic.AtomicLong launches = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong uploaded = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong downloaded = new java.util.concurrent.atomic.AtomicLong();
    /** -Dcolo4j.opencl.profile=true: finish after every launch and add its wall time to its kernel's total. */
    static final boolean PROFILE = Boolean.getBoolean("colo4j.opencl.profile");
    private final Map<String, double[]> profile = new ConcurrentHashMap<>();

    /** How mirrors are kept: AUTO probes for zero-copy, COPY forces explicit transfers (tests the GPU path on PoCL). */
    enum Residency { AUTO, ZERO_COPY, COPY }

    OpenClDevice(OpenCl.DeviceInfo info, Residency residency) {
        this(info, residency, !info.cpu());
    }

    /** {@code gpuStyle}: row kernels split each row over a work-group (VW 4, RW up to 128) as on a GPU. */
    OpenClDevice(OpenCl.DeviceInfo info, Residency residency, boolean gpuStyle) {
        this.info = info;
        cl_context_properties props = new cl_context_properties();
        props.addProperty(CL_CONTEXT_PLATFORM, info.platformId());
        this.context = clCreateContext(props, 1, new org.jocl.cl_device_id[] {info.deviceId()}, null, null, null);
        this.vectorWidth = gpuStyle ? 4 : 16;
        this.rowWorkItems = gpuStyle ? (int) Math.min(128, Integer.highestOneBit((int) Math.min(info.maxWorkGroupSize(), 1024))) : 1;
        this.buildOptions = "-DVW=" + vectorWidth + " -DRW=" + rowWorkItems;
        this.source = loadSource();
        long t0 = System.nanoTime();
        this.program = build(source, buildOptions);
        this.buildMillis = (System.nanoTime() - t0) / 1e6;
        this.dummy = clCreateBuffer(context, CL_MEM_READ_WRITE, 64, null, null);
        this.zeroCopy = switch (residency) {
            case COPY -> false;
            case ZERO_COPY, AUTO -> info.hostUnifiedMemory() && probeZeroCopy();
        };
    }

    static String loadSource() {
        try (InputStream in = OpenClDevice.class.getResourceAsStream(SOURCE_RESOURCE)) {
            if (in == null) {
                throw new OpenClUnavailableException("kernel source " + SOURCE_RESOURCE + " is missing from the classpath");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new OpenClUnavailableException("cannot read kernel source " + SOURCE_RESOURCE, e);
        }
    }

    /** Compiles {@code src} for this device; a compile error comes back with the driver's build log. */
    cl_program build(String src, String options) {
        cl_program p = clCreateProgramWithSource(context, 1, new String[] {src}, null, null);
        try {
            clBuildProgram(p, 1, new org.jocl.cl_device_id[] {info.deviceId()}, options, null, null);
        } catch (CLException e) {
            String log = buildLog(p);
            clReleaseProgram(p);
            throw new OpenClUnavailableException("OpenCL program build failed on " + info.name() + " (" + e.getMessage()
                    + "):\n" + log, e);
        }
        return p;
    }

    /** Milliseconds to build the program again from source (warm: the driver's own cache, if any, now holds it). */
    double rebuildMillis() {
        long t0 = System.nanoTime();
        cl_program p = build(source, buildOptions);
        double ms = (System.nanoTime() - t0) / 1e6;
        clReleaseProgram(p);
        return ms;
    }

    private String buildLog(cl_program p) {
        try {
            long[] size = new long[1];
            clGetProgramBuildInfo(p, info.deviceId(), CL_PROGRAM_BUILD_LOG, 0, null, size);
            byte[] buf = new byte[(int) size[0]];
            clGetProgramBuildInfo(p, info.deviceId(), CL_PROGRAM_BUILD_LOG, buf.length, Pointer.to(buf), null);
            return new String(buf, StandardCharsets.UTF_8).trim();
        } catch (CLException e) {
            return "(no build log: " + e.getMessage() + ")";
        }
    }

    /**
     * Checks that a USE_HOST_PTR buffer over a deliberately not 128-byte aligned segment is really the host memory:
     * a kernel's writes show up in the segment and host writes show up in the kernel, with no map or transfer.
     */
    private boolean probeZeroCopy() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment block = arena.allocate(64 * Float.BYTES + 256, 128).asSlice(64, 64 * Float.BYTES);
            for (int i = 0; i < 32; i++) {
                block.setAtIndex(ValueLayout.JAVA_FLOAT, i, i + 1);
            }
            cl_mem mem = clCreateBuffer(context, CL_MEM_READ_WRITE | CL_MEM_USE_HOST_PTR, block.byteSize(),
                    Pointer.to(block.asByteBuffer()), null);
            Lane lane = lane();
            try {
                cl_kernel k = lane.kernel("unary_fwd_NEG");
                for (int round = 0; round < 2; round++) {
                    new Args(k).mem(mem).i64(0).mem(mem).i64(32).i64(32);
                    lane.run(k, new long[] {(32 + vectorWidth - 1) / vectorWidth}, null);
                    clFinish(lane.queue);
                    for (int i = 0; i < 32; i++) {
                        float want = -block.getAtIndex(ValueLayout.JAVA_FLOAT, i);
                        if (block.getAtIndex(ValueLayout.JAVA_FLOAT, 32 + i) != want) {
                            return false;
                        }
                    }
                    for (int i = 0; i < 32; i++) {
                        block.setAtIndex(ValueLayout.JAVA_FLOAT, i, 100 + 3 * i);
                    }
                }
                return true;
            } finally {
                clReleaseMemObject(mem);
            }
        } catch (CLException e) {
            return false;
        }
    }

    // ---- per-thread lanes ---------------------------------------------------------------------------------------

    /** The calling thread's queue and kernels, created on first use and released when the thread is gone. */
    Lane lane() {
        Lane l = lanes.get();
        if (l == null) {
            checkOpen();
            l = new Lane();
            lanes.set(l);
            allLanes.add(l);
            CLEANER.register(Thread.currentThread(), l::release);
        }
        return l;
    }

    /** True while the calling thread is inside a backend call (the backend's own storage access must not sync). */
    boolean insideCall() {
        Lane l = lanes.get();
        return l != null && l.depth > 0;
    }

    void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the OpenCL device " + info.name() + " has been closed");
        }
    }

    /** One thread's command queue, kernel objects and scratch buffers. */
    final class Lane {
        final cl_command_queue queue;
        private final Map<String, cl_kernel> kernels = new HashMap<>();
        private final cl_mem[] scratch = new cl_mem[3];
        private final long[] scratchBytes = new long[3];
        int depth;
        private boolean released;

        @SuppressWarnings("deprecation")
        Lane() {
            this.queue = clCreateCommandQueue(context, info.deviceId(), 0, null);
        }

        private final Map<cl_kernel, String> names = new HashMap<>();

        cl_kernel kernel(String name) {
            cl_kernel k = kernels.get(name);
            if (k == null) {
                k = clCreateKernel(program, name, null);
                kernels.put(name, k);
                names.put(k, name);
            }
            return k;
        }

        void run(cl_kernel k, long[] global, long[] local) {
            for (long g : global) {
                if (g == 0) {
                    return;
                }
            }
            long t0 = PROFILE ? System.nanoTime() : 0;
            clEnqueueNDRangeKernel(queue, k, global.length, null, global, local, 0, null, null);
            launches.incrementAndGet();
            if (PROFILE) {
                clFinish(queue);
                double[] acc = profile.computeIfAbsent(names.getOrDefault(k, "?"), n -> new double[2]);
                synchronized (acc) {
                    acc[0] += (System.nanoTime() - t0) / 1e6;
                    acc[1]++;
                }
            }
        }

        void finish() {
            clFinish(queue);
        }

        /** A device-only buffer of at least {@code bytes} for this thread (0: packed A, 1: packed B, 2: int ids). */
        cl_mem scratch(int slot, long bytes) {
            long need = Math.max(bytes, 64);
            if (scratch[slot] == null || scratchBytes[slot] < need) {
                if (scratch[slot] != null) {
                    clReleaseMemObject(scratch[slot]);
                }
                long size = Math.max(need, scratchBytes[slot] + scratchBytes[slot] / 2);
                scratch[slot] = clCreateBuffer(context, CL_MEM_READ_WRITE, size, null, null);
                scratchBytes[slot] = size;
            }
            return scratch[slot];
        }

        /** Uploads {@code ids} into the int scratch buffer. */
        cl_mem ints(int[] ids) {
            cl_mem m = scratch(2, (long) ids.length * Integer.BYTES);
            if (ids.length > 0) {
                clEnqueueWriteBuffer(queue, m, true, 0, (long) ids.length * Integer.BYTES, Pointer.to(ids), 0, null, null);
            }
            return m;
        }

        void upload(cl_mem mem, MemorySegment host) {
            transfer(mem, host, true);
        }

        void download(cl_mem mem, MemorySegment host) {
            transfer(mem, host, false);
        }

        private void transfer(cl_mem mem, MemorySegment host, boolean toDevice) {
            long chunk = 1L << 30;
            for (long off = 0; off < host.byteSize(); off += chunk) {
                long len = Math.min(chunk, host.byteSize() - off);
                Pointer p = Pointer.to(host.asSlice(off, len).asByteBuffer());
                if (toDevice) {
                    clEnqueueWriteBuffer(queue, mem, true, off, len, p, 0, null, null);
                    uploaded.addAndGet(len);
                } else {
                    clEnqueueReadBuffer(queue, mem, true, off, len, p, 0, null, null);
                    downloaded.addAndGet(len);
                }
            }
        }

        synchronized void release() {
            if (released) {
                return;
            }
            released = true;
            allLanes.remove(this);
            for (cl_kernel k : kernels.values()) {
                clReleaseKernel(k);
            }
            kernels.clear();
            for (int i = 0; i < scratch.length; i++) {
                if (scratch[i] != null) {
                    clReleaseMemObject(scratch[i]);
                    scratch[i] = null;
                }
            }
            clReleaseCommandQueue(queue);
        }
    }

    /** Sets a kernel's arguments in order. */
    static final class Args {
        private final cl_kernel k;
        private int i;

        Args(cl_kernel k) {
            this.k = k;
        }

        Args mem(cl_mem m) {
            clSetKernelArg(k, i++, Sizeof.cl_mem, Pointer.to(m));
            return this;
        }

        Args i32(int v) {
            clSetKernelArg(k, i++, Sizeof.cl_int, Pointer.to(new int[] {v}));
            return this;
        }

        Args i64(long v) {
            clSetKernelArg(k, i++, Sizeof.cl_long, Pointer.to(new long[] {v}));
            return this;
        }

        Args f32(float v) {
            clSetKernelArg(k, i++, Sizeof.cl_float, Pointer.to(new float[] {v}));
            return this;
        }

        Args int4(int[] v) {
            clSetKernelArg(k, i++, 4L * Sizeof.cl_int, Pointer.to(v));
            return this;
        }

        Args long4(long[] v) {
            clSetKernelArg(k, i++, 4L * Sizeof.cl_long, Pointer.to(v));
            return this;
        }
    }

    // ---- mirrors ------------------------------------------------------------------------------------------------

    /**
     * The device buffer of {@code storage}, created on first use. Must be called inside a backend call (the
     * storage's segment is read without triggering host coherence).
     */
    ClMirror mirror(Storage storage) {
        MemorySegment seg = storage.segment();
        if (!seg.scope().isAlive()) {
            throw new IllegalStateException("a tensor's memory has already been freed (its MemoryScope closed or "
                    + "Storage.free() was called); it cannot be used by the opencl backend");
        }
        while (true) {
            Storage.DeviceMirror m = storage.mirror();
            if (m instanceof ClMirror cm && cm.isReleased()) {
                storage.detachMirror(cm);
                continue;
            }
            if (m instanceof ClMirror cm && cm.device == this) {
                return cm;
            }
            if (m != null) {
                throw new IllegalStateException("this storage is already resident on another device backend (" + m
                        + "); copy the tensor to use it on " + info.name());
            }
            ClMirror created = createMirror(seg);
            Storage.DeviceMirror attached = storage.attachMirror(created);
            if (attached == created) {
                CLEANER.register(storage, created::release);
                return created;
            }
            created.release();
        }
    }

    private ClMirror createMirror(MemorySegment seg) {
        checkOpen();
        long bytes = Math.max(seg.byteSize(), Float.BYTES);
        boolean zc = zeroCopy && seg.byteSize() > 0 && seg.byteSize() <= Integer.MAX_VALUE;
        cl_mem mem = zc
                ? clCreateBuffer(context, CL_MEM_READ_WRITE | CL_MEM_USE_HOST_PTR, seg.byteSize(), Pointer.to(seg.asByteBuffer()), null)
                : clCreateBuffer(context, CL_MEM_READ_WRITE, bytes, null, null);
        ClMirror m = new ClMirror(this, mem, bytes, zc, seg.scope());
        synchronized (registryLock) {
            Set<ClMirror> set = byScope.computeIfAbsent(seg.scope(), s -> new java.util.HashSet<>());
            set.add(m);
            if (set.size() == 1) {
                singleScopes.addLast(seg.scope());
            } else {
                multiScopes.add(seg.scope());
            }
            liveMirrors++;
            liveBytes += bytes;
        }
        return m;
    }

    /** Called by a mirror's release: forget it. */
    void forget(ClMirror m) {
        synchronized (registryLock) {
            Set<ClMirror> set = byScope.get(m.scope);
            if (set != null && set.remove(m)) {
                liveMirrors--;
                liveBytes -= m.bytes;
                if (set.isEmpty()) {
                    byScope.remove(m.scope);
                    multiScopes.remove(m.scope);
                }
            }
        }
    }

    /**
     * Releases the mirrors of storage whose memory scope has closed: every multi-storage scope (a step's
     * MemoryScope) is checked on every call, so its buffers go at the first call after it closed; scopes of a single
     * long-lived storage (freed through {@link Storage#free()}, which releases at once, or dropped, which a cleaner
     * catches) are checked a few per call, so the cost per call stays constant however many tensors are alive.
     */
    void sweep() {
        List<ClMirror> dead = null;
        synchronized (registryLock) {
            for (MemorySegment.Scope scope : multiScopes) {
                if (!scope.isAlive()) {
                    dead = collect(dead, byScope.get(scope));
                }
            }
            for (int i = 0, n = Math.min(SINGLES_PER_SWEEP, singleScopes.size()); i < n; i++) {
                MemorySegment.Scope scope = singleScopes.pollFirst();
                Set<ClMirror> set = byScope.get(scope);
                if (set == null || multiScopes.contains(scope)) {
                    continue;
                }
                if (!scope.isAlive()) {
                    dead = collect(dead, set);
                } else {
                    singleScopes.addLast(scope);
                }
            }
        }
        if (dead != null) {
            for (ClMirror m : dead) {
                m.release();
            }
        }
    }

    /** Every closed scope's mirrors, however many (an explicit request, not the per-call sweep). */
    void sweepAll() {
        List<ClMirror> dead = null;
        synchronized (registryLock) {
            for (Map.Entry<MemorySegment.Scope, Set<ClMirror>> e : byScope.entrySet()) {
                if (!e.getKey().isAlive()) {
                    dead = collect(dead, e.getValue());
                }
            }
        }
        if (dead != null) {
            for (ClMirror m : dead) {
                m.release();
            }
        }
    }

    private static List<ClMirror> collect(List<ClMirror> into, Set<ClMirror> mirrors) {
        List<ClMirror> list = into != null ? into : new ArrayList<>();
        if (mirrors != null) {
            list.addAll(mirrors);
        }
        return list;
    }

    long launches() {
        return launches.get();
    }

    long uploadedBytes() {
        return uploaded.get();
    }

    long downloadedBytes() {
        return downloaded.get();
    }

    /** Per kernel: total ms and launches (only with -Dcolo4j.opencl.profile=true), largest total first. */
    String profileReport() {
        StringBuilder sb = new StringBuilder();
        profile.entrySet().stream().sorted((a, b) -> Double.compare(b.getValue()[0], a.getValue()[0])).forEach(e ->
                sb.append(String.format(java.util.Locale.ROOT, "%-24s %10.1f ms %8d launches%n", e.getKey(), e.getValue()[0],
                        (long) e.getValue()[1])));
        return sb.toString();
    }

    long liveMirrors() {
        synchronized (registryLock) {
            return liveMirrors;
        }
    }

    long liveBytes() {
        synchronized (registryLock) {
            return liveBytes;
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        List<ClMirror> all = new ArrayList<>();
        synchronized (registryLock) {
            byScope.values().forEach(all::addAll);
        }
        all.forEach(ClMirror::release);
        for (Lane l : List.copyOf(allLanes)) {
            l.release();
        }
        clReleaseMemObject(dummy);
        clReleaseProgram(program);
        clReleaseContext(context);
    }
}
