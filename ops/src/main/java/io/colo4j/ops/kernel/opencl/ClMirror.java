package io.colo4j.ops.kernel.opencl;

import static org.jocl.CL.clReleaseMemObject;

import io.colo4j.tensor.Storage;
import java.lang.foreign.MemorySegment;
import org.jocl.cl_mem;

/**
 * One storage's buffer on an OpenCL device.
 *
 * <p>Zero-copy (a USE_HOST_PTR buffer over the storage's segment on a device that shares host memory): host and
 * device read the same bytes and, since every backend call finishes before returning, there is nothing to keep
 * coherent.
 *
 * <p>Copy mode (a device allocation): two flags track which side is newer. Host access (every
 * {@code Tensor} data access goes through {@link #beforeHostAccess}) downloads when the device is newer and then
 * marks the host newer, because host code may write; the next kernel that uses the storage uploads it first.
 * A kernel that writes it marks the device newer. The backend's own access to tensors during a call is not host
 * access and is skipped ({@link OpenClDevice#insideCall()}).
 */
final class ClMirror implements Storage.DeviceMirror {
    final OpenClDevice device;
    final cl_mem mem;
    final long bytes;
    final boolean zeroCopy;
    final MemorySegment.Scope scope;
    private boolean hostNewer = true;
    private boolean deviceNewer;
    private boolean released;

    ClMirror(OpenClDevice device, cl_mem mem, long bytes, boolean zeroCopy, MemorySegment.Scope scope) {
        this.device = device;
        this.mem = mem;
        this.bytes = bytes;
        this.zeroCopy = zeroCopy;
        this.scope = scope;
    }

    @Override
    public void beforeHostAccess(Storage storage) {
        if (zeroCopy || device.insideCall()) {
            return;
        }
        synchronized (this) {
            if (released) {
                return;
            }
            if (deviceNewer) {
                device.lane().download(mem, storage.segment());
                deviceNewer = false;
            }
            hostNewer = true;
        }
    }

    /** Before a kernel reads (or partly writes) the storage: upload when the host copy is newer. */
    synchronized void toDevice(OpenClDevice.Lane lane, MemorySegment segment) {
        checkLive();
        if (!zeroCopy && hostNewer) {
            lane.upload(mem, segment);
            hostNewer = false;
        }
    }

    /** Before a kernel overwrites every element of the storage: no upload needed. */
    synchronized void toDeviceOverwritten() {
        checkLive();
        hostNewer = false;
    }

    /** After a kernel wrote the storage. */
    synchronized void written() {
        if (!zeroCopy) {
            deviceNewer = true;
        }
    }

    /** Downloads now if the device copy is newer (an explicit host boundary), keeping the device copy valid. */
    synchronized void syncToHost(OpenClDevice.Lane lane, MemorySegment segment) {
        if (!zeroCopy && !released && deviceNewer) {
            lane.download(mem, segment);
            deviceNewer = false;
        }
    }

    synchronized boolean isReleased() {
        return released;
    }

    private void checkLive() {
        if (released) {
            throw new IllegalStateException("the device buffer of this storage was released (its memory was freed)");
        }
    }

    @Override
    public void release() {
        synchronized (this) {
            if (released) {
                return;
            }
            released = true;
        }
        clReleaseMemObject(mem);
        device.forget(this);
    }

    @Override
    public String toString() {
        return "opencl buffer of " + bytes + " bytes on " + device.info.name() + (zeroCopy ? " (zero-copy)" : "");
    }
}
