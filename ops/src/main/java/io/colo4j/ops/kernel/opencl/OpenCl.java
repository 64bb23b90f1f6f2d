package io.colo4j.ops.kernel.opencl;

import static org.jocl.CL.CL_DEVICE_GLOBAL_MEM_SIZE;
import static org.jocl.CL.CL_DEVICE_HOST_UNIFIED_MEMORY;
import static org.jocl.CL.CL_DEVICE_MAX_COMPUTE_UNITS;
import static org.jocl.CL.CL_DEVICE_MAX_MEM_ALLOC_SIZE;
import static org.jocl.CL.CL_DEVICE_MAX_WORK_GROUP_SIZE;
import static org.jocl.CL.CL_DEVICE_NAME;
import static org.jocl.CL.CL_DEVICE_TYPE;
import static org.jocl.CL.CL_DEVICE_TYPE_ALL;
import static org.jocl.CL.CL_DEVICE_TYPE_CPU;
import static org.jocl.CL.CL_DEVICE_TYPE_GPU;
import static org.jocl.CL.CL_DEVICE_VERSION;
import static org.jocl.CL.CL_PLATFORM_NAME;
import static org.jocl.CL.CL_PLATFORM_VERSION;
import static org.jocl.CL.clGetDeviceIDs;
import static org.jocl.CL.clGetDeviceInfo;
import static org.jocl.CL.clGetPlatformIDs;
import static org.jocl.CL.clGetPlatformInfo;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_device_id;
import org.jocl.cl_platform_id;

/**
 * Discovery of OpenCL platforms and devices through JOCL, without ever letting a missing driver crash the JVM:
 * {@link #discover()} turns every failure (no ICD loader, no platform, JOCL's native library not loading) into an
 * {@link Availability} with a message a user can act on.
 */
public final class OpenCl {
    private static volatile Availability cached;

    private OpenCl() {}

    /** One OpenCL device as discovered; {@code index} is its position in {@link Availability#devices()}. */
    public record DeviceInfo(int index, String platform, String platformVersion, String name, String version,
                             boolean gpu, boolean cpu, boolean hostUnifiedMemory, int computeUnits, long globalMemBytes,
                             long maxAllocBytes, long maxWorkGroupSize, cl_platform_id platformId, cl_device_id deviceId) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%s (%s, %s, %d compute units, %.1f GiB%s)", name, platform,
                    gpu ? "GPU" : cpu ? "CPU" : "accelerator", computeUnits, globalMemBytes / (double) (1L << 30),
                    hostUnifiedMemory ? ", host-unified memory" : "");
        }
    }

    /** Whether OpenCL can be used here: the devices found, or why none could be. */
    public record Availability(boolean available, String message, List<DeviceInfo> devices) {}

    /** The platforms and devices of this process (looked up once; JOCL's state is per process). */
    public static Availability discover() {
        Availability a = cached;
        if (a == null) {
            synchronized (OpenCl.class) {
                a = cached;
                if (a == null) {
                    a = lookup();
                    cached = a;
                }
            }
        }
        return a;
    }

    private static Availability lookup() {
        try {
            CL.setExceptionsEnabled(true);
            int[] count = new int[1];
            clGetPlatformIDs(0, null, count);
            if (count[0] == 0) {
                return none("no OpenCL platform is installed (clGetPlatformIDs found 0)");
            }
            cl_platform_id[] platforms = new cl_platform_id[count[0]];
            clGetPlatformIDs(platforms.length, platforms, null);
            List<DeviceInfo> devices = new ArrayList<>();
            List<String> problems = new ArrayList<>();
            for (cl_platform_id p : platforms) {
                String pname = platformString(p, CL_PLATFORM_NAME);
                try {
                    int[] n = new int[1];
                    clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, 0, null, n);
                    cl_device_id[] ds = new cl_device_id[n[0]];
                    clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, ds.length, ds, null);
                    for (cl_device_id d : ds) {
                        long type = deviceLong(d, CL_DEVICE_TYPE);
                        devices.add(new DeviceInfo(devices.size(), pname, platformString(p, CL_PLATFORM_VERSION),
                                deviceString(d, CL_DEVICE_NAME), deviceString(d, CL_DEVICE_VERSION),
                                (type & CL_DEVICE_TYPE_GPU) != 0, (type & CL_DEVICE_TYPE_CPU) != 0,
                                deviceInt(d, CL_DEVICE_HOST_UNIFIED_MEMORY) != 0, deviceInt(d, CL_DEVICE_MAX_COMPUTE_UNITS),
                                deviceLong(d, CL_DEVICE_GLOBAL_MEM_SIZE), deviceLong(d, CL_DEVICE_MAX_MEM_ALLOC_SIZE),
                                deviceSize(d, CL_DEVICE_MAX_WORK_GROUP_SIZE), p, d));
                    }
                } catch (CLException e) {
                    problems.add(pname + ": " + e.getMessage());
                }
            }
            if (devices.isEmpty()) {
                return none("OpenCL platforms exist but expose no device" + (problems.isEmpty() ? "" : " " + problems));
            }
            return new Availability(true, devices.size() + " OpenCL device(s): " + devices, List.copyOf(devices));
        } catch (CLException e) {
            String status = CL.stringFor_errorCode(e.getStatus());
            return none("no usable OpenCL platform (" + status + " from clGetPlatformIDs; is an ICD such as "
                    + "pocl-opencl-icd installed and OCL_ICD_VENDORS pointing at it?)");
        } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
            return none("the OpenCL runtime could not be loaded (" + e.getMessage() + "; install ocl-icd-libopencl1 and an ICD)");
        } catch (RuntimeException e) {
            return none("OpenCL discovery failed: " + e);
        }
    }

    private static Availability none(String why) {
        return new Availability(false, why, List.of());
    }

    /**
     * The device to use: {@code selector} (or -Dcolo4j.opencl.device) is an index or a case-insensitive substring
     * of the device or platform name; by default the first GPU, else the first device.
     */
    public static DeviceInfo pick(Availability a, String selector) {
        if (!a.available()) {
            throw new OpenClUnavailableException(a.message());
        }
        String sel = selector != null ? selector : System.getProperty("colo4j.opencl.device");
        if (sel != null && !sel.isBlank()) {
            String s = sel.trim();
            if (s.chars().allMatch(Character::isDigit)) {
                int i = Integer.parseInt(s);
                if (i < a.devices().size()) {
                    return a.devices().get(i);
                }
                throw new OpenClUnavailableException("OpenCL device index " + i + " asked, but only " + a.devices().size()
                        + " found: " + a.devices());
            }
            String lower = s.toLowerCase(Locale.ROOT);
            for (DeviceInfo d : a.devices()) {
                if (d.name().toLowerCase(Locale.ROOT).contains(lower) || d.platform().toLowerCase(Locale.ROOT).contains(lower)) {
                    return d;
                }
            }
            throw new OpenClUnavailableException("no OpenCL device matches '" + s + "' among " + a.devices());
        }
        for (DeviceInfo d : a.devices()) {
            if (d.gpu()) {
                return d;
            }
        }
        return a.devices().get(0);
    }

    static String platformString(cl_platform_id p, int param) {
        long[] size = new long[1];
        clGetPlatformInfo(p, param, 0, null, size);
        byte[] buf = new byte[(int) size[0]];
        clGetPlatformInfo(p, param, buf.length, Pointer.to(buf), null);
        return cString(buf);
    }

    static String deviceString(cl_device_id d, int param) {
        long[] size = new long[1];
        clGetDeviceInfo(d, param, 0, null, size);
        byte[] buf = new byte[(int) size[0]];
        clGetDeviceInfo(d, param, buf.length, Pointer.to(buf), null);
        return cString(buf);
    }

    static long deviceLong(cl_device_id d, int param) {
        long[] v = new long[1];
        clGetDeviceInfo(d, param, Sizeof.cl_ulong, Pointer.to(v), null);
        return v[0];
    }

    static int deviceInt(cl_device_id d, int param) {
        int[] v = new int[1];
        clGetDeviceInfo(d, param, Sizeof.cl_uint, Pointer.to(v), null);
        return v[0];
    }

    static long deviceSize(cl_device_id d, int param) {
        long[] v = new long[1];
        clGetDeviceInfo(d, param, Sizeof.size_t, Pointer.to(v), null);
        return v[0];
    }

    private static String cString(byte[] buf) {
        int n = 0;
        while (n < buf.length && buf[n] != 0) {
            n++;
        }
        return new String(buf, 0, n, StandardCharsets.UTF_8).trim();
    }
}
