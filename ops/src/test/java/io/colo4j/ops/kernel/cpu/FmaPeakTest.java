package io.colo4j.ops.kernel.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class FmaPeakTest {
    @Test
    void theCeilingIsNeverBelowOneThreadTimesTheThreads() {
        // a neighbour held a core during the concurrent timing: the ceiling is what the two threads can do
        assertThat(new FmaPeak.Peak(80, 120, 2).ceilingGflops()).isEqualTo(160);
        // the concurrent timing is above one thread's (turbo on one core held back the single-thread figure)
        assertThat(new FmaPeak.Peak(80, 170, 2).ceilingGflops()).isEqualTo(170);
        assertThat(new FmaPeak.Peak(80, 80, 1).ceilingGflops()).isEqualTo(80);
    }
}
