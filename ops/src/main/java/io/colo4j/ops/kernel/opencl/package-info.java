/**
 * The opencl kernel backend: {@link io.colo4j.ops.kernel.opencl.OpenClBackend} runs every
 * {@link io.colo4j.ops.kernel.KernelBackend} kernel, and AdamW through
 * {@link io.colo4j.ops.kernel.opencl.OptimizerKernels}, as OpenCL C (resource {@code colo4j.cl}) that the device's
 * driver compiles at run time, called through JOCL. PoCL gives a CPU device on any Linux machine, so tests and CI
 * run every kernel without a GPU.
 *
 * <h2>Selection</h2>
 * {@code Backends.named("cpu" | "opencl" | "auto")}, {@code --backend} on the CLI (the {@code BackendOption} mixin)
 * or {@code -Dcolo4j.backend}. {@code opencl} fails with {@link io.colo4j.ops.kernel.opencl.OpenClUnavailableException}
 * and the reason when no platform or device is usable ({@link io.colo4j.ops.kernel.opencl.OpenCl#discover()} turns
 * every JOCL/ICD failure into a message, never a crash); {@code auto}
 * ({@link io.colo4j.ops.kernel.opencl.AutoSelection}) takes OpenCL only when a device is present and an sgemm probe
 * is faster there. {@code -Dcolo4j.opencl.device=<index|name>} picks a device (default: the first GPU, else the
 * first device).
 *
 * <h2>Residency and coherence</h2>
 * Each {@code Storage} a kernel touches gets one device buffer ({@code ClMirror}, attached to the storage as a
 * {@code Storage.DeviceMirror}) for the storage's life; tensor views pass their element offset, so all views of a
 * storage share the buffer. The host segment stays the reference for host code: {@code Tensor.store()}, through
 * which all host data access goes, calls the mirror first.
 * <ul>
 *   <li>Zero-copy (devices with host-unified memory, verified by a probe at start-up: PoCL): the buffer is
 *       {@code CL_MEM_USE_HOST_PTR} over the storage's own segment, so host and device share the bytes and nothing
 *       is ever transferred.</li>
 *   <li>Device copies (GPUs; forced on PoCL by {@code OpenClBackend.create(null, true)} for tests): a host-newer /
 *       device-newer pair of flags. Host access downloads if the device is newer and then marks the host newer
 *       (the host may write); the next kernel using the storage uploads first; kernel outputs mark the device
 *       newer. Transfers therefore happen only at host boundaries: reading results, host-side updates, a
 *       collective on a host communicator, {@code toHost}/{@code toDevice}. Every host touch counts as a possible
 *       write, including creating a view, which is safe but costs a round trip on a GPU.</li>
 * </ul>
 * Every backend call finishes its queue before returning, so no device work outlives the call that enqueued it;
 * host memory freed after a call is never touched by the device.
 *
 * <h2>Freeing</h2>
 * A device buffer is released with its storage: {@code Storage.free()} releases it at once; storage of a
 * {@code MemoryScope} (a training step) is released by the first backend call after the scope closed (or by
 * {@code releaseClosedScopes()}); storage that is merely dropped is released by a cleaner.
 *
 * <h2>Programs and threads</h2>
 * The program is built once per device when the backend is created ({@code programBuildMillis()}; PoCL caches
 * binaries under {@code ~/.cache/pocl}, so later processes build warm). Each calling thread (each in-JVM rank) has
 * its own command queue and kernel objects.
 */
package io.colo4j.ops.kernel.opencl;
