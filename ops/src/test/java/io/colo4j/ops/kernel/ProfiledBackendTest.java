package io.colo4j.ops.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.profile.StepProfile;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The profiling decorator forwards every kernel, interface defaults too, to the wrapped backend and counts GEMM FLOPs. */
class ProfiledBackendTest {
    /** Records the kernels it receives and runs them on the cpu backend; rmsNorm (an interface default) is recorded only. */
    private static KernelBackend recording(List<String> calls) {
        KernelBackend cpu = Backends.cpu();
        return (KernelBackend) java.lang.reflect.Proxy.newProxyInstance(KernelBackend.class.getClassLoader(),
                new Class<?>[] {KernelBackend.class}, (proxy, method, args) -> {
                    calls.add(method.getName());
                    return method.getName().equals("rmsNorm") ? null : method.invoke(cpu, args);
                });
    }

    @Test
    void forwardsEveryKernelToTheWrappedBackendAndTimesIt() {
        List<String> calls = new ArrayList<>();
        KernelBackend profiled = ProfiledBackend.wrap(recording(calls));
        assertThat(ProfiledBackend.wrap(profiled)).isSameAs(profiled);
        assertThat(profiled.name()).isEqualTo("cpu");
        StepProfile.enable(true);
        try {
            StepProfile.reset();
            int step = StepProfile.root(StepProfile.STEP);
            profiled.rmsNorm(Tensor.zeros(2, 4), Tensor.zeros(4), 1e-6f, Tensor.zeros(2, 4), Tensor.zeros(2));
            Tensor a = Tensor.ones(3, 2, 5);
            Tensor b = Tensor.ones(3, 5, 4);
            Tensor out = Tensor.zeros(3, 2, 4);
            profiled.matmul(a, b, out, 1f, 0f);
            StepProfile.exit(step);
            assertThat(calls).as("the default rmsNorm reached the wrapped backend").containsExactly("name", "rmsNorm", "matmul");
            assertThat(out.get(0, 0, 0)).isEqualTo(5f);
            Map<String, StepProfile.Totals> t = StepProfile.snapshot();
            assertThat(t.get("kernel rmsNorm").calls()).isEqualTo(1);
            assertThat(t.get("gemm").calls()).isEqualTo(1);
            assertThat(t.get("gemm").work()).isEqualTo(2L * 3 * 2 * 4 * 5);
        } finally {
            StepProfile.enable(false);
            StepProfile.reset();
        }
    }
}
