package io.colo4j.ops.kernel.opencl;

import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.ops.kernel.Backends;
import io.colo4j.ops.kernel.KernelBackend;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.nn.Module;
import io.colo4j.tensor.nn.Parameter;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The model-level acceptance tests on the opencl backend: the GPT-2-style stack of {@code GptStackEquivalenceTest}
 * (serial vs tp = 2 on in-JVM rank threads, every rank running opencl kernels) and the operator tests
 * ({@code OpForwardTest}, {@code OpGradientTest}), all reused as they are (they are package-private, hence the
 * reflection), with the process default backend set to opencl and restored afterwards.
 */
class OpenClModelTest {
    private final KernelBackend previous = Backends.getDefault();

    @AfterEach
    void restoreDefault() {
        Backends.setDefault(previous);
    }

    @ParameterizedTest(name = "{0} embeddings, {1}")
    @CsvSource({"VOCAB,zero-copy", "COLUMN,zero-copy", "VOCAB,device-copies", "VOCAB,gpu-style"})
    void gptStackTensorParallelMatchesSerialOnOpenCl(String embeddings, String mode) throws Exception {
        OpenClBackend cl = backend(mode);
        Class<?> test = Class.forName("io.colo4j.ops.dist.GptStackEquivalenceTest");
        Class<?> kind = Class.forName("io.colo4j.ops.dist.GptStackEquivalenceTest$Embeddings");
        Method m = test.getDeclaredMethod("lossAndEveryGradientMatchTheSerialModel", int.class, int.class, kind);
        m.setAccessible(true);
        Backends.setDefault(cl);
        long launches = cl.kernelLaunches();
        invoke(m, newInstance(test), 2, 1, enumValue(kind, embeddings));
        assertThat(cl.kernelLaunches() - launches).as("kernels launched").isGreaterThan(100);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"zero-copy", "device-copies", "gpu-style"})
    void gptStackLossAndGradientsMatchTheCpuBackend(String mode) throws Exception {
        OpenClBackend cl = backend(mode);
        Class<?> test = Class.forName("io.colo4j.ops.dist.GptStackEquivalenceTest");
        Method model = test.getDeclaredMethod("model");
        Method ids = test.getDeclaredMethod("ids", int.class, int.class, int.class);
        model.setAccessible(true);
        ids.setAccessible(true);
        int b = (int) field(test, "B");
        IntTensor in = (IntTensor) ids.invoke(null, 0, b, 0);
        IntTensor targets = (IntTensor) ids.invoke(null, 0, b, 1);
        Map<String, Object> cpuRun = run(Backends.cpu(), model, in, targets);
        long launches = cl.kernelLaunches();
        Map<String, Object> clRun = run(cl, model, in, targets);
        assertThat(cl.kernelLaunches() - launches).as("kernels launched").isGreaterThan(50);
        float cpuLoss = (float) cpuRun.get("loss");
        assertThat((float) clRun.get("loss")).isCloseTo(cpuLoss, org.assertj.core.api.Assertions.within(1e-5f * Math.abs(cpuLoss)));
        assertThat(clRun.keySet()).isEqualTo(cpuRun.keySet());
        for (String name : cpuRun.keySet()) {
            if (!name.equals("loss")) {
                OpenClTesting.assertClose(name, (Tensor) clRun.get(name), (Tensor) cpuRun.get(name), 1e-4);
            }
        }
    }

    private Map<String, Object> run(KernelBackend backend, Method model, IntTensor in, IntTensor targets) throws Exception {
        Backends.setDefault(backend);
        Module m = (Module) model.invoke(null);
        Method loss = m.getClass().getDeclaredMethod("loss", IntTensor.class, IntTensor.class);
        loss.setAccessible(true);
        Tensor l = (Tensor) invoke(loss, m, in, targets);
        l.backward();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("loss", l.item());
        for (Map.Entry<String, Parameter> e : m.namedParameters().entrySet()) {
            out.put(e.getKey(), e.getValue().grad().copy());
        }
        return out;
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"io.colo4j.ops.OpForwardTest", "io.colo4j.ops.OpGradientTest"})
    void operatorTestsPassOnOpenCl(String className) throws Exception {
        OpenClBackend cl = OpenClTesting.shared();
        Class<?> test = Class.forName(className);
        int ran = 0;
        Backends.setDefault(cl);
        long launches = cl.kernelLaunches();
        for (Method m : test.getDeclaredMethods()) {
            if (m.isAnnotationPresent(Test.class) && m.getParameterCount() == 0) {
                m.setAccessible(true);
                invoke(m, newInstance(test));
                ran++;
            }
        }
        assertThat(ran).isPositive();
        assertThat(cl.kernelLaunches() - launches).as("kernels launched").isGreaterThanOrEqualTo((long) ran);
    }

    private static OpenClBackend backend(String mode) {
        return switch (mode) {
            case "zero-copy" -> OpenClTesting.shared();
            case "device-copies" -> OpenClTesting.copyMode();
            default -> OpenClTesting.gpuStyle();
        };
    }

    private static Object newInstance(Class<?> c) throws ReflectiveOperationException {
        Constructor<?> ctor = c.getDeclaredConstructor();
        ctor.setAccessible(true);
        return ctor.newInstance();
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Object enumValue(Class<?> kind, String name) {
        return Enum.valueOf((Class) kind, name);
    }

    private static Object field(Class<?> c, String name) throws ReflectiveOperationException {
        var f = c.getDeclaredField(name);
        f.setAccessible(true);
        return f.get(null);
    }

    /** Invokes, rethrowing what the method threw (an assertion error keeps its message). */
    private static Object invoke(Method m, Object target, Object... args) throws Exception {
        try {
            return m.invoke(target, args);
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            if (e.getCause() instanceof Exception ex) {
                throw ex;
            }
            throw e;
        }
    }
}
