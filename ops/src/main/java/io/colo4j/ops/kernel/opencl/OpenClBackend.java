package io.colo4j.ops.kernel.opencl;

import io.colo4j.ops.kernel.BinaryOp;
import io.colo4j.ops.kernel.DropoutBits;
import io.colo4j.ops.kernel.GemmOperand;
import io.colo4j.ops.kernel.GlobalIndex;
import io.colo4j.ops.kernel.KernelBackend;
import io.colo4j.ops.kernel.UnaryOp;
import io.colo4j.ops.kernel.cpu.CpuBackend;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.Shapes;
import io.colo4j.tensor.Storage;
import io.colo4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;

/**
 * The opencl backend: every {@link KernelBackend} kernel (and AdamW, through {@link OptimizerKernels}) as OpenCL C
 * compiled at run time by the device's driver (resource {@code colo4j.cl}), through JOCL.
 *
 * <p>Tensors stay resident: each storage a kernel touches gets one device buffer that lives as long as the storage
 * (see {@link OpenClDevice} and {@link ClMirror}); host code that touches a tensor afterwards sees the device's
 * results, and device kernels see host writes, so cpu and opencl ops can be mixed freely on the same tensors.
 * Every call finishes its work before returning.
 *
 * <p>Obtain the process-wide instance with {@link #shared()} (or {@code Backends.named("opencl")}); it throws
 * {@link OpenClUnavailableException} with the reason when no OpenCL platform or device is usable.
 */
public final class OpenClBackend implements KernelBackend, OptimizerKernels, AutoCloseable {
    private static final Object SHARED_LOCK = new Object();
    private static volatile OpenClBackend shared;

    private final OpenClDevice device;
    private final KernelBackend cpu = new CpuBackend();
    /** Local-memory tiled sgemm (GPUs) instead of the packed register-blocked one (CPU devices). */
    private final boolean tiledGemm;

    private OpenClBackend(OpenClDevice device, boolean tiledGemm) {
        this.device = device;
        this.tiledGemm = tiledGemm;
    }

    /** The process-wide backend on the default device (-Dcolo4j.opencl.device, else the first GPU, else the first device). */
    public static OpenClBackend shared() {
        OpenClBackend b = shared;
        if (b == null) {
            synchronized (SHARED_LOCK) {
                b = shared;
                if (b == null) {
                    b = create(null, false);
                    shared = b;
                }
            }
        }
        return b;
    }

    /** True once {@link #shared()} has created the process-wide backend. */
    public static boolean sharedCreated() {
        return shared != null;
    }

    /**
     * A new backend with its own context and program. {@code selector}: device index or name substring (null for
     * the default); {@code forceCopy}: keep device buffers separate from host memory even where zero-copy works
     * (the residency protocol a GPU uses, testable on a CPU device).
     */
    public static OpenClBackend create(String selector, boolean forceCopy) {
        String gemm = System.getProperty("colo4j.opencl.gemm", "");
        return create(selector, forceCopy, gemm.isBlank() ? null : gemm.equalsIgnoreCase("tiled"));
    }

    /** As {@link #create(String, boolean)}; {@code tiledGemm} null: tiled on GPUs, packed on CPU devices. */
    static OpenClBackend create(String selector, boolean forceCopy, Boolean tiledGemm) {
        return create(selector, forceCopy, tiledGemm, null);
    }

    /**
     * Everything a GPU would get, selectable on any device for tests: {@code gpuStyle} null picks by device type
     * (work-group-per-row kernels with local-memory reductions on GPUs, one vectorised work-item per row on CPUs).
     */
    static OpenClBackend create(String selector, boolean forceCopy, Boolean tiledGemm, Boolean gpuStyle) {
        OpenCl.Availability a = OpenCl.discover();
        if (!a.available()) {
            throw new OpenClUnavailableException("opencl backend unavailable: " + a.message());
        }
        OpenCl.DeviceInfo info = OpenCl.pick(a, selector);
        try {
            OpenClDevice.Residency residency = forceCopy ? OpenClDevice.Residency.COPY : OpenClDevice.Residency.AUTO;
            return new OpenClBackend(new OpenClDevice(info, residency, gpuStyle != null ? gpuStyle : !info.cpu()),
                    tiledGemm != null ? tiledGemm : !info.cpu());
        } catch (org.jocl.CLException e) {
            throw new OpenClUnavailableException("opencl backend: cannot set up " + info + ": " + e.getMessage(), e);
        }
    }

    @Override
    public String name() {
        return "opencl";
    }

    /** The device in words. */
    public String deviceDescription() {
        return device.info.toString();
    }

    public String deviceName() {
        return device.info.name();
    }

    /** Milliseconds the first (possibly cold) build of the kernel program took when this backend was created. */
    public double programBuildMillis() {
        return device.buildMillis;
    }

    /** Builds the program again and returns the milliseconds: the warm cost, with the driver's cache populated. */
    public double rebuildProgramMillis() {
        return device.rebuildMillis();
    }

    /** Milliseconds to build the program with other options (e.g. a unique define, to time a cold compile). */
    public double buildMillisWithOptions(String options) {
        long t0 = System.nanoTime();
        org.jocl.cl_program p = device.build(device.source, options);
        double ms = (System.nanoTime() - t0) / 1e6;
        org.jocl.CL.clReleaseProgram(p);
        return ms;
    }

    /** The build options the program was compiled with (vector width, work-items per row). */
    public String buildOptions() {
        return device.buildOptions;
    }

    /** Whether device buffers alias host memory (no transfers at all). */
    public boolean zeroCopy() {
        return device.zeroCopy;
    }

    /** Kernels launched on this backend's device so far (all threads). */
    public long kernelLaunches() {
        return device.launches();
    }

    /** Bytes copied host to device so far (always 0 in zero-copy mode). */
    public long uploadedBytes() {
        return device.uploadedBytes();
    }

    /** Bytes copied device to host so far (always 0 in zero-copy mode). */
    public long downloadedBytes() {
        return device.downloadedBytes();
    }

    /** Time per kernel, when run with -Dcolo4j.opencl.profile=true (each launch then finishes before the next). */
    public String profileReport() {
        return OpenClDevice.PROFILE ? device.profileReport() : "(run with -Dcolo4j.opencl.profile=true to profile kernels)\n";
    }

    /** Device buffers currently alive (one per storage used on the device). */
    public long residentBuffers() {
        return device.liveMirrors();
    }

    /** Bytes of those buffers. */
    public long residentBytes() {
        return device.liveBytes();
    }

    /**
     * Releases the buffers of all storage whose memory has been freed. Every backend call first does this for
     * step scopes (MemoryScope.open), so this is only needed to release everything at a chosen point.
     */
    public void releaseClosedScopes() {
        device.sweepAll();
    }

    /** A host boundary: brings the tensor's storage up to date on the host now (a no-op when zero-copy). */
    public void toHost(Tensor t) {
        Storage s = storageOf(t);
        if (s.mirror() instanceof ClMirror m && m.device == device) {
            OpenClDevice.Lane lane = device.lane();
            m.syncToHost(lane, s.segment());
        }
    }

    /** A device boundary: uploads the tensor's storage now instead of at its first kernel. */
    public void toDevice(Tensor t) {
        try (Call c = new Call()) {
            c.in(t);
        }
    }

    private Storage storageOf(Tensor t) {
        OpenClDevice.Lane lane = device.lane();
        lane.depth++;
        try {
            return t.storage();
        } finally {
            lane.depth--;
        }
    }

    @Override
    public void close() {
        synchronized (SHARED_LOCK) {
            if (shared == this) {
                shared = null;
            }
        }
        device.close();
    }

    @Override
    public String toString() {
        return "opencl backend on " + device.info + (device.zeroCopy ? ", zero-copy" : ", device copies");
    }

    // ---- one backend call --------------------------------------------------------------------------------------

    /** Brackets one backend call: buffers of its operands, its launches, and the final clFinish. */
    private final class Call implements AutoCloseable {
        final OpenClDevice.Lane lane;
        private final List<ClMirror> written = new ArrayList<>(2);

        Call() {
            device.checkOpen();
            device.sweep();
            lane = device.lane();
            lane.depth++;
        }

        /** The buffer of a tensor a kernel reads (or partly updates). Call for inputs before outputs. */
        cl_mem in(Tensor t) {
            Storage s = t.storage();
            ClMirror m = device.mirror(s);
            m.toDevice(lane, s.segment());
            return m.mem;
        }

        /** The buffer of a tensor a kernel writes; {@code overwrite}: every element is written, none read. */
        cl_mem out(Tensor t, boolean overwrite) {
            Storage s = t.storage();
            ClMirror m = device.mirror(s);
            if (overwrite && t.offset() == 0 && t.numel() == s.numel() && t.isContiguous()) {
                m.toDeviceOverwritten();
            } else {
                m.toDevice(lane, s.segment());
            }
            written.add(m);
            return m.mem;
        }

        cl_kernel kernel(String name) {
            return lane.kernel(name);
        }

        /** One launch of a kernel whose tensor arguments are each passed as (buffer, offset). */
        Launch launch(String name) {
            return new Launch(kernel(name));
        }

        /** A kernel's arguments in order; tensors read are named before the tensors written, as {@link #in} needs. */
        final class Launch {
            private final cl_kernel k;
            private final OpenClDevice.Args args;

            private Launch(cl_kernel k) {
                this.k = k;
                this.args = new OpenClDevice.Args(k);
            }

            Launch in(Tensor t) {
                args.mem(Call.this.in(t)).i64(t.offset());
                return this;
            }

            /** A tensor the kernel writes whole. */
            Launch out(Tensor t) {
                args.mem(Call.this.out(t, true)).i64(t.offset());
                return this;
            }

            /** A tensor the kernel adds into, or none when null. */
            Launch accumulate(Tensor t) {
                if (t == null) {
                    return none();
                }
                args.mem(Call.this.out(t, false)).i64(t.offset());
                return this;
            }

            /** No tensor: a placeholder buffer that a flag tells the kernel not to touch. */
            Launch none() {
                args.mem(device.dummy).i64(0);
                return this;
            }

            Launch i32(int v) {
                args.i32(v);
                return this;
            }

            Launch f32(float v) {
                args.f32(v);
                return this;
            }

            /** One work-group of {@code device.rowWorkItems} per row. */
            void overRows(long rows) {
                runLocal(k, rowGlobal(rows), rowLocal());
            }

            /** Column strips of VW columns, each looping over the rows. */
            void overColumns(int n) {
                runStrips(k, (n + device.vectorWidth - 1) / device.vectorWidth);
            }
        }

        OpenClDevice.Args args(cl_kernel k) {
            return new OpenClDevice.Args(k);
        }

        void run(cl_kernel k, long... global) {
            lane.run(k, global, null);
        }

        void runLocal(cl_kernel k, long[] global, long[] local) {
            lane.run(k, global, local);
        }

        /**
         * A kernel over {@code strips} column strips (VW columns each) that loops over rows: few, long work-items,
         * so one per work-group on a CPU device (a driver-chosen group could put them all on one core).
         */
        void runStrips(cl_kernel k, long strips) {
            long local = device.info.cpu() ? 1 : 64;
            lane.run(k, new long[] {roundUp(strips, local)}, new long[] {local});
        }

        @Override
        public void close() {
            try {
                lane.finish();
            } finally {
                lane.depth--;
                for (ClMirror m : written) {
                    m.written();
                }
            }
        }
    }

    private static long roundUp(long n, long m) {
        return (n + m - 1) / m * m;
    }

    // ---- matmul ------------------------------------------------------------------------------------------------

    private static final int MR = 4;
    private static final int NR = 32;
    private static final int KB = 16;
    /** k-slice of one gemm launch: a 32-column B panel slice of KC rows is 64 KiB, so it stays in L2. */
    private static final int KC = Integer.getInteger("colo4j.opencl.kc", 512);

    @Override
    public void matmul(Tensor a, Tensor b, Tensor out, float alpha, float beta) {
        GemmOperand ga = operand("a", a);
        GemmOperand gb = operand("b", b);
        int m = ga.rows();
        int k = ga.cols();
        int n = gb.cols();
        int batch = Math.max(ga.batch(), gb.batch());
        if (gb.rows() != k || out.size(-2) != m || out.size(-1) != n || (ga.batch() != batch && ga.batch() != 1)
                || (gb.batch() != batch && gb.batch() != 1) || out.numel() != (long) batch * m * n || !out.isContiguous()) {
            throw new IllegalArgumentException("matmul: incompatible operands " + Shapes.format(a.shape()) + " @ "
                    + Shapes.format(b.shape()) + " -> " + Shapes.format(out.shape()));
        }
        if ((long) m * n * batch == 0) {
            return;
        }
        if (tiledGemm) {
            matmulTiled(a, ga, b, gb, out, m, n, k, batch, alpha, beta);
            return;
        }
        int mBlocks = (m + MR - 1) / MR;
        int nBlocks = (n + NR - 1) / NR;
        int aPanels = ga.batch() == 1 ? 1 : batch;
        int bPanels = gb.batch() == 1 ? 1 : batch;
        try (Call c = new Call()) {
            cl_mem ma = c.in(a);
            cl_mem mb = c.in(b);
            cl_mem mc = c.out(out, beta == 0f);
            cl_mem ap = c.lane.scratch(0, (long) Float.BYTES * aPanels * mBlocks * MR * k);
            cl_mem bp = c.lane.scratch(1, (long) Float.BYTES * bPanels * nBlocks * NR * k);
            if (k > 0) {
                cl_kernel pa = c.kernel("pack_a");
                c.args(pa).mem(ma).i64(a.offset()).i64(aPanels == 1 ? 0 : ga.batchStride()).i32(ga.leadingDim())
                        .i32(ga.transposed() ? 1 : 0).i32(m).i32(k).i32(mBlocks).mem(ap);
                c.run(pa, (k + KB - 1) / KB, mBlocks, aPanels);
                cl_kernel pb = c.kernel("pack_b");
                c.args(pb).mem(mb).i64(b.offset()).i64(bPanels == 1 ? 0 : gb.batchStride()).i32(gb.leadingDim())
                        .i32(gb.transposed() ? 1 : 0).i32(k).i32(n).i32(nBlocks).mem(bp);
                c.run(pb, (k + KB - 1) / KB, nBlocks, bPanels);
            }
            cl_kernel g = c.kernel("gemm_packed");
            int wg = device.info.cpu() ? Math.min(32, mBlocks) : Math.min(16, mBlocks);
            long[] global = {roundUp(mBlocks, wg), nBlocks, batch};
            long[] local = {wg, 1, 1};
            int kStart = 0;
            do {
                int kLen = Math.min(KC, k - kStart);
                c.args(g).mem(ap).mem(bp).i32(m).i32(n).i32(k).i32(kStart).i32(kLen).i32(mBlocks).i32(nBlocks)
                        .i32(aPanels).i32(bPanels).f32(alpha).f32(kStart == 0 ? beta : 1f).mem(mc).i64(out.offset())
                        .i64((long) m * n).i32(n);
                c.runLocal(g, global, local);
                kStart += kLen;
            } while (kStart < k);
        }
    }

    private void matmulTiled(Tensor a, GemmOperand ga, Tensor b, GemmOperand gb, Tensor out, int m, int n, int k, int batch,
                             float alpha, float beta) {
        try (Call c = new Call()) {
            cl_mem ma = c.in(a);
            cl_mem mb = c.in(b);
            cl_mem mc = c.out(out, beta == 0f);
            cl_kernel g = c.kernel("gemm_tiled");
            c.args(g).mem(ma).i64(a.offset()).i64(ga.batch() == 1 ? 0 : ga.batchStride()).i32(ga.leadingDim())
                    .i32(ga.transposed() ? 1 : 0).mem(mb).i64(b.offset()).i64(gb.batch() == 1 ? 0 : gb.batchStride())
                    .i32(gb.leadingDim()).i32(gb.transposed() ? 1 : 0).i32(m).i32(n).i32(k).f32(alpha).f32(beta)
                    .mem(mc).i64(out.offset()).i64((long) m * n).i32(n);
            c.runLocal(g, new long[] {roundUp(n, 16), roundUp(m, 16), batch}, new long[] {16, 16, 1});
        }
    }

    /** Which sgemm kernel this backend uses. */
    public String gemmKernel() {
        return tiledGemm ? "gemm_tiled (16x16 local-memory tiles)" : "gemm_packed (packed panels, 4x32 register blocks)";
    }

    private static GemmOperand operand(String name, Tensor t) {
        GemmOperand g = GemmOperand.of(t);
        if (g == null) {
            throw new IllegalArgumentException("matmul: operand " + name + " " + Shapes.format(t.shape())
                    + " with strides " + Arrays.toString(t.strides()) + " is not a gemm layout; call GemmOperand.prepare");
        }
        return g;
    }

    // ---- elementwise -------------------------------------------------------------------------------------------

    /** BinaryOp ordinals the program has kernels for; a newer op runs on the cpu backend. */
    private static final int BINARY_KERNELS = 4;

    @Override
    public void binary(BinaryOp op, Tensor a, Tensor b, Tensor out) {
        int[] shape = out.shape();
        if (!Arrays.equals(a.shape(), shape) || !Arrays.equals(b.shape(), shape)) {
            throw new IllegalArgumentException("binary " + op + ": operands " + Shapes.format(a.shape()) + " and "
                    + Shapes.format(b.shape()) + " are not broadcast to " + Shapes.format(shape));
        }
        if (out.numel() == 0) {
            return;
        }
        Dims d = Dims.collapse(shape, a.strides(), b.strides(), out.strides());
        if (d.rank() > 5 || op.ordinal() >= BINARY_KERNELS) {
            cpu.binary(op, a, b, out);
            return;
        }
        try (Call c = new Call()) {
            cl_mem ma = c.in(a);
            cl_mem mb = c.in(b);
            cl_mem mo = c.out(out, true);
            int last = d.rank() - 1;
            if (d.rank() == 0 || (d.rank() == 1 && d.stride(0, 0) == 1 && d.stride(1, 0) == 1 && d.stride(2, 0) == 1)) {
                long n = d.rank() == 0 ? 1 : d.size(0);
                cl_kernel k = c.kernel("binary_flat_" + op.ordinal());
                c.args(k).mem(ma).i64(a.offset()).mem(mb).i64(b.offset()).mem(mo).i64(out.offset()).i64(n);
                c.run(k, roundUp(n, 64));
                return;
            }
            int[] s = {1, 1, 1, 1};
            long[][] st = new long[3][4];
            long outer = 1;
            for (int i = 0; i < last; i++) {
                int slot = 4 - last + i;
                s[slot] = d.size(i);
                outer *= d.size(i);
                for (int t = 0; t < 3; t++) {
                    st[t][slot] = d.stride(t, i);
                }
            }
            int inner = d.size(last);
            cl_kernel k = c.kernel("binary_nd_" + op.ordinal());
            c.args(k).mem(ma).i64(a.offset()).mem(mb).i64(b.offset()).mem(mo).i64(out.offset())
                    .i32(inner).i64(d.stride(0, last)).i64(d.stride(1, last)).i64(d.stride(2, last))
                    .int4(s).long4(st[0]).long4(st[1]).long4(st[2]);
            c.run(k, (inner + device.vectorWidth - 1) / device.vectorWidth, outer);
        }
    }

    @Override
    public void unary(UnaryOp op, Tensor x, Tensor out) {
        long n = out.numel();
        if (n == 0) {
            return;
        }
        try (Call c = new Call()) {
            cl_mem mx = c.in(x);
            cl_mem mo = c.out(out, true);
            cl_kernel k = c.kernel("unary_fwd_" + op.name());
            c.args(k).mem(mx).i64(x.offset()).mem(mo).i64(out.offset()).i64(n);
            c.run(k, (n + device.vectorWidth - 1) / device.vectorWidth);
        }
    }

    @Override
    public void unaryBackward(UnaryOp op, Tensor x, Tensor gradOut, Tensor gradIn) {
        long n = gradIn.numel();
        if (n == 0) {
            return;
        }
        try (Call c = new Call()) {
            cl_mem mx = c.in(x);
            cl_mem mg = c.in(gradOut);
            cl_mem mo = c.out(gradIn, true);
            cl_kernel k = c.kernel("unary_bwd_" + op.name());
            c.args(k).mem(mx).i64(x.offset()).mem(mg).i64(gradOut.offset()).mem(mo).i64(gradIn.offset()).i64(n);
            c.run(k, (n + device.vectorWidth - 1) / device.vectorWidth);
        }
    }

    @Override
    public void dropout(DropoutBits bits, GlobalIndex index, Tensor in, Tensor out) {
        long n = checkedDropout("dropout", index, in, out);
        if (n == 0) {
            return;
        }
        try (Call c = new Call()) {
            cl_mem runs = c.lane.ints(halves(index));
            cl_mem mi = c.in(in);
            cl_mem mo = c.out(out, true);
            cl_kernel k = c.kernel("dropout");
            c.args(k).i64(bits.base()).i64(bits.threshold()).f32(bits.keep()).mem(runs).i64(index.runLength())
                    .mem(mi).i64(in.offset()).mem(mo).i64(out.offset()).i64(n);
            c.run(k, roundUp(n, 64));
        }
    }

    @Override
    public void biasDropoutAdd(Tensor x, Tensor bias, Tensor residual, DropoutBits bits, GlobalIndex index, Tensor out) {
        long n = checkedDropout("bias_dropout_add", index, x, out);
        if (residual.numel() != n || !residual.isContiguous()) {
            throw new IllegalArgumentException("bias_dropout_add: residual must be contiguous with x's " + n + " elements, got "
                    + residual.numel());
        }
        if (n == 0) {
            return;
        }
        try (Call c = new Call()) {
            cl_mem runs = c.lane.ints(halves(index));
            cl_mem mx = c.in(x);
            cl_mem mb = bias == null ? device.dummy : c.in(bias);
            cl_mem mr = c.in(residual);
            cl_mem mo = c.out(out, true);
            cl_kernel k = c.kernel("bias_dropout_add");
            c.args(k).i64(bits.base()).i64(bits.threshold()).f32(bits.keep()).mem(runs).i64(index.runLength())
                    .mem(mx).i64(x.offset()).mem(mb).i64(bias == null ? 0 : bias.offset()).i32(bias == null ? 0 : 1)
                    .i64(bias == null ? 1 : bias.numel()).mem(mr).i64(residual.offset()).mem(mo).i64(out.offset()).i64(n);
            c.run(k, roundUp(n, 64));
        }
    }

    /** The runs' global starts as (low, high) uint pairs: the lane's int upload buffer carries them. */
    private static int[] halves(GlobalIndex index) {
        int[] out = new int[2 * index.runs()];
        for (int r = 0; r < index.runs(); r++) {
            out[2 * r] = (int) index.start(r);
            out[2 * r + 1] = (int) (index.start(r) >>> 32);
        }
        return out;
    }

    private static long checkedDropout(String op, GlobalIndex index, Tensor in, Tensor out) {
        if (!in.isContiguous() || !out.isContiguous() || in.numel() != out.numel() || index.numel() != in.numel()) {
            throw new IllegalArgumentException(op + ": needs contiguous input and output of the global index's "
                    + index.numel() + " elements, got " + in.numel() + " and " + out.numel());
        }
        return in.numel();
    }

    // ---- reductions ---------------------------------------------------------------------------------------------

    @Override
    public void sumTo(Tensor in, Tensor out) {
        int[] is = in.shape();
        int[] os = out.shape();
        if (is.length != os.length) {
            throw new IllegalArgumentException("sumTo: rank " + is.length + " vs " + os.length);
        }
        for (int i = 0; i < is.length; i++) {
            if (os[i] != is[i] && os[i] != 1) {
                throw new IllegalArgumentException("sumTo: " + Shapes.format(is) + " cannot be summed to " + Shapes.format(os));
            }
        }
        long count = out.numel();
        if (count == 0) {
            return;
        }
        SumPlan plan = SumPlan.of(is, os, in.strides(), out.strides());
        if (plan == null) {
            cpu.sumTo(in, out);
            return;
        }
        try (Call c = new Call()) {
            cl_mem mi = c.in(in);
            cl_mem mo = c.out(out, true);
            if (plan.columnRows >= 0 && in.isContiguous() && out.isContiguous()) {
                int cols = Math.toIntExact(count);
                cl_kernel k = c.kernel("column_sums");
                c.args(k).mem(mi).i64(in.offset()).mem(mo).i64(out.offset()).i32(plan.columnRows).i32(cols);
                c.runStrips(k, (cols + device.vectorWidth - 1) / device.vectorWidth);
                return;
            }
            cl_kernel k = c.kernel("sum_to");
            c.args(k).mem(mi).i64(in.offset()).mem(mo).i64(out.offset()).i64(count)
                    .int4(plan.keptSizes).long4(plan.keptIn).long4(plan.keptOut).int4(plan.reducedSizes).long4(plan.reducedIn);
            c.run(k, roundUp(count, 16));
        }
    }

    // ---- row kernels ----------------------------------------------------------------------------------------------

    private long[] rowGlobal(long rows) {
        return new long[] {rows * device.rowWorkItems};
    }

    private long[] rowLocal() {
        return new long[] {device.rowWorkItems};
    }

    @Override
    public void softmax(Tensor x, float scale, boolean causal, Tensor out) {
        int n = x.size(-1);
        int t = causal ? x.size(-2) : 0;
        if (causal && t != n) {
            throw new IllegalArgumentException("causal softmax needs [..., T, T], got last dims " + t + "x" + n);
        }
        long rows = rows(x);
        if (rows == 0) {
            return;
        }
        try (Call c = new Call()) {
            c.launch("softmax_fwd").in(x).out(out).i32(n).i32(t).f32(scale).overRows(rows);
        }
    }

    @Override
    public void softmaxBackward(Tensor y, Tensor gradOut, float scale, Tensor gradIn) {
        long rows = rows(y);
        if (rows == 0) {
            return;
        }
        try (Call c = new Call()) {
            c.launch("softmax_bwd").in(y).in(gradOut).out(gradIn).i32(y.size(-1)).f32(scale).overRows(rows);
        }
    }

    @Override
    public void layerNorm(Tensor x, Tensor gamma, Tensor beta, float eps, Tensor out, Tensor mean, Tensor rstd) {
        long rows = rows(x);
        if (rows == 0) {
            return;
        }
        try (Call c = new Call()) {
            c.launch("layernorm_fwd").in(x).in(gamma).in(beta).out(out).out(mean).out(rstd).i32(x.size(-1)).f32(eps).i32(1)
                    .overRows(rows);
        }
    }

    @Override
    public void layerNormBackward(Tensor x, Tensor gamma, Tensor mean, Tensor rstd, Tensor gradOut,
                                  Tensor gradIn, Tensor gradGamma, Tensor gradBeta) {
        long rows = rows(x);
        if (rows == 0) {
            return;
        }
        int n = x.size(-1);
        try (Call c = new Call()) {
            c.launch("layernorm_bwd_dx").in(x).in(gamma).in(mean).in(rstd).in(gradOut).out(gradIn).i32(n).i32(1).overRows(rows);
            if (gradGamma != null || gradBeta != null) {
                c.launch("layernorm_bwd_params").in(x).in(mean).in(rstd).in(gradOut).accumulate(gradGamma).accumulate(gradBeta)
                        .i32(gradGamma != null ? 1 : 0).i32(gradBeta != null ? 1 : 0).i32(Math.toIntExact(rows)).i32(n)
                        .overColumns(n);
            }
        }
    }

    /** RMSNorm is the layernorm kernels uncentered (every row's mean zero) and without a bias. */
    @Override
    public void rmsNorm(Tensor x, Tensor gamma, float eps, Tensor out, Tensor rstd) {
        long rows = rows(x);
        if (rows == 0) {
            return;
        }
        try (Call c = new Call()) {
            c.launch("layernorm_fwd").in(x).in(gamma).none().out(out).none().out(rstd).i32(x.size(-1)).f32(eps).i32(0)
                    .overRows(rows);
        }
    }

    @Override
    public void rmsNormBackward(Tensor x, Tensor gamma, Tensor rstd, Tensor gradOut, Tensor gradIn, Tensor gradGamma) {
        long rows = rows(x);
        if (rows == 0) {
            return;
        }
        int n = x.size(-1);
        try (Call c = new Call()) {
            c.launch("layernorm_bwd_dx").in(x).in(gamma).none().in(rstd).in(gradOut).out(gradIn).i32(n).i32(0).overRows(rows);
            if (gradGamma != null) {
                // the params kernel reads a mean per row: zeros
                Tensor zeroMean = Tensor.zeros(Math.toIntExact(rows));
                c.launch("layernorm_bwd_params").in(x).in(zeroMean).in(rstd).in(gradOut).accumulate(gradGamma).none()
                        .i32(1).i32(0).i32(Math.toIntExact(rows)).i32(n).overColumns(n);
            }
        }
    }

    /** Rows of the last dim. */
    private static long rows(Tensor x) {
        int n = x.size(-1);
        return n == 0 ? 0 : x.numel() / n;
    }

    // ---- embedding -------------------------------------------------------------------------------------------------

    @Override
    public void embedding(IntTensor ids, Tensor weight, int rowOffset, Tensor out) {
        int rows = weight.size(0);
        int d = weight.size(1);
        int count = ids.numel();
        if ((long) count * d == 0) {
            return;
        }
        try (Call c = new Call()) {
            cl_mem mi = c.lane.ints(ids.data());
            cl_mem mw = c.in(weight);
            cl_mem mo = c.out(out, true);
            cl_kernel k = c.kernel("embedding_fwd");
            c.args(k).mem(mi).mem(mw).i64(weight.offset()).i32(rows).i32(d).i32(rowOffset).mem(mo).i64(out.offset());
            c.run(k, roundUp(d, 16), count);
        }
    }

    @Override
    public void embeddingBackward(IntTensor ids, Tensor gradOut, int rowOffset, Tensor gradWeight) {
        int rows = gradWeight.size(0);
        int d = gradWeight.size(1);
        int count = ids.numel();
        if ((long) count * d == 0) {
            return;
        }
        try (Call c = new Call()) {
            cl_mem mi = c.lane.ints(ids.data());
            cl_mem mg = c.in(gradOut);
            cl_mem mw = c.out(gradWeight, false);
            cl_kernel k = c.kernel("embedding_bwd");
            c.args(k).mem(mi).i32(count).mem(mg).i64(gradOut.offset()).mem(mw).i64(gradWeight.offset()).i32(rows).i32(d).i32(rowOffset);
            c.runStrips(k, (d + device.vectorWidth - 1) / device.vectorWidth);
        }
    }

    // ---- cross-entropy ---------------------------------------------------------------------------------------------

    @Override
    public void crossEntropy(Tensor logits, IntTensor targets, int ignoreIndex, int validColumns, Tensor losses, Tensor logSumExp) {
        int v = logits.size(-1);
        int rows = targets.numel();
        int[] t = targets.data();
        for (int r = 0; r < rows; r++) {
            if (t[r] != ignoreIndex && (t[r] < 0 || t[r] >= validColumns)) {
                throw new IllegalArgumentException("cross_entropy: target " + t[r] + " at row " + r
                        + " is outside the " + validColumns + " classes");
            }
        }
        if (rows == 0) {
            return;
        }
        try (Call c = new Call()) {
            cl_mem mt = c.lane.ints(t);
            cl_mem ml = c.in(logits);
            cl_mem mloss = c.out(losses, true);
            cl_mem mlse = c.out(logSumExp, true);
            cl_kernel k = c.kernel("cross_entropy_fwd");
            c.args(k).mem(ml).i64(logits.offset()).mem(mt).i32(ignoreIndex).i32(validColumns).i32(v)
                    .mem(mloss).i64(losses.offset()).mem(mlse).i64(logSumExp.offset());
            c.runLocal(k, rowGlobal(rows), rowLocal());
        }
    }

    @Override
    public void crossEntropyBackward(Tensor logits, IntTensor targets, int ignoreIndex, int validColumns,
                                     Tensor logSumExp, float rowScale, Tensor gradLogits) {
        int v = logits.size(-1);
        int rows = targets.numel();
        if ((long) rows * v == 0) {
            return;
        }
        try (Call c = new Call()) {
            cl_mem mt = c.lane.ints(targets.data());
            cl_mem ml = c.in(logits);
            cl_mem mlse = c.in(logSumExp);
            cl_mem mg = c.out(gradLogits, true);
            cl_kernel k = c.kernel("cross_entropy_bwd");
            c.args(k).mem(ml).i64(logits.offset()).mem(mt).i32(ignoreIndex).i32(validColumns).i32(v)
                    .mem(mlse).i64(logSumExp.offset()).f32(rowScale).mem(mg).i64(gradLogits.offset());
            c.run(k, (v + device.vectorWidth - 1) / device.vectorWidth, rows);
        }
    }

    // ---- optimizer ---------------------------------------------------------------------------------------------------

    @Override
    public void adamWStep(Tensor param, Tensor grad, Tensor expAvg, Tensor expAvgSq, AdamWScalars s) {
        long n = param.numel();
        if (grad.numel() != n || expAvg.numel() != n || expAvgSq.numel() != n) {
            throw new IllegalArgumentException("adamw: parameter, gradient and moments differ in size: "
                    + Shapes.format(param.shape()) + ", " + Shapes.format(grad.shape()) + ", "
                    + Shapes.format(expAvg.shape()) + ", " + Shapes.format(expAvgSq.shape()));
        }
        for (Tensor t : new Tensor[] {param, grad, expAvg, expAvgSq}) {
            if (!t.isContiguous()) {
                throw new IllegalArgumentException("adamw: tensors must be contiguous, got strides " + Arrays.toString(t.strides()));
            }
        }
        if (n == 0) {
            return;
        }
        try (Call c = new Call()) {
            cl_mem mg = c.in(grad);
            cl_mem mp = c.out(param, false);
            cl_mem mm = c.out(expAvg, false);
            cl_mem mv = c.out(expAvgSq, false);
            cl_kernel k = c.kernel("adamw_step");
            c.args(k).mem(mp).i64(param.offset()).mem(mg).i64(grad.offset()).mem(mm).i64(expAvg.offset()).mem(mv).i64(expAvgSq.offset())
                    .i64(n).f32(s.decay()).f32(s.beta1()).f32(s.beta2()).f32(s.oneMinusBeta1()).f32(s.oneMinusBeta2())
                    .f32(s.stepSize()).f32(s.invBias2Sqrt()).f32(s.eps());
            c.run(k, roundUp(n, 64));
        }
    }

    // ---- layout helpers -------------------------------------------------------------------------------------------

    /** A shape and the strides of several operands over it, with size-1 dims dropped and mergeable dims merged. */
    record Dims(int[] sizes, long[][] strides) {
        int rank() {
            return sizes.length;
        }

        int size(int d) {
            return sizes[d];
        }

        long stride(int operand, int d) {
            return strides[operand][d];
        }

        static Dims collapse(int[] shape, long[]... operandStrides) {
            int ops = operandStrides.length;
            List<Integer> sz = new ArrayList<>();
            List<long[]> st = new ArrayList<>();
            for (int d = 0; d < shape.length; d++) {
                if (shape[d] == 1) {
                    continue;
                }
                long[] s = new long[ops];
                for (int o = 0; o < ops; o++) {
                    s[o] = operandStrides[o][d];
                }
                if (!sz.isEmpty()) {
                    int prev = sz.size() - 1;
                    boolean merge = true;
                    for (int o = 0; o < ops; o++) {
                        merge &= st.get(prev)[o] == s[o] * shape[d];
                    }
                    if (merge) {
                        sz.set(prev, Math.multiplyExact(sz.get(prev), shape[d]));
                        st.set(prev, s);
                        continue;
                    }
                }
                sz.add(shape[d]);
                st.add(s);
            }
            int[] sizes = sz.stream().mapToInt(Integer::intValue).toArray();
            long[][] strides = new long[ops][sizes.length];
            for (int d = 0; d < sizes.length; d++) {
                for (int o = 0; o < ops; o++) {
                    strides[o][d] = st.get(d)[o];
                }
            }
            return new Dims(sizes, strides);
        }
    }

    /**
     * sumTo as kept dims (located per output element) and reduced dims (summed in row-major order), each collapsed
     * and right-aligned into 4 slots; {@code columnRows >= 0} marks the contiguous [rows, cols] -> [cols] case.
     */
    static final class SumPlan {
        final int[] keptSizes = {1, 1, 1, 1};
        final long[] keptIn = new long[4];
        final long[] keptOut = new long[4];
        final int[] reducedSizes = {1, 1, 1, 1};
        final long[] reducedIn = new long[4];
        int columnRows = -1;

        static SumPlan of(int[] is, int[] os, long[] inStrides, long[] outStrides) {
            List<long[]> kept = new ArrayList<>();
            List<long[]> reduced = new ArrayList<>();
            // walk dims outermost first, merging a dim into the previous one of its kind when strides allow
            int lastKind = -1;
            for (int d = 0; d < is.length; d++) {
                if (is[d] == 1) {
                    continue;
                }
                boolean red = os[d] == 1;
                List<long[]> list = red ? reduced : kept;
                long[] e = {is[d], inStrides[d], red ? 0 : outStrides[d]};
                int kind = red ? 1 : 0;
                if (lastKind == kind && !list.isEmpty()) {
                    long[] p = list.get(list.size() - 1);
                    if (p[1] == e[1] * e[0] && (red || p[2] == e[2] * e[0]) && p[0] * e[0] <= Integer.MAX_VALUE) {
                        p[0] *= e[0];
                        p[1] = e[1];
                        p[2] = e[2];
                        continue;
                    }
                }
                list.add(e);
                lastKind = kind;
            }
            if (kept.size() > 4 || reduced.size() > 4) {
                return null;
            }
            SumPlan plan = new SumPlan();
            for (int i = 0; i < kept.size(); i++) {
                int slot = 4 - kept.size() + i;
                plan.keptSizes[slot] = (int) kept.get(i)[0];
                plan.keptIn[slot] = kept.get(i)[1];
                plan.keptOut[slot] = kept.get(i)[2];
            }
            for (int i = 0; i < reduced.size(); i++) {
                int slot = 4 - reduced.size() + i;
                plan.reducedSizes[slot] = (int) reduced.get(i)[0];
                plan.reducedIn[slot] = reduced.get(i)[1];
            }
            if (kept.size() == 1 && reduced.size() == 1 && kept.get(0)[1] == 1 && kept.get(0)[2] == 1
                    && reduced.get(0)[1] == kept.get(0)[0]) {
                plan.columnRows = (int) reduced.get(0)[0];
            }
            return plan;
        }
    }
}
