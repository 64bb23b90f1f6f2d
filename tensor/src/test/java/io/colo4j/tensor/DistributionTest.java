package io.colo4j.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The hook contract the colo package builds on, with a stand-in that halves dim 0 (a shard of 2). */
class DistributionTest {
    /** A shard of rows: global dim 0 is twice the local one; records which view ops reached it. */
    private static final class HalfRows extends Distribution {
        final List<String> calls = new ArrayList<>();
        private final int[] global;

        HalfRows(int[] local) {
            global = local.clone();
            global[0] *= 2;
        }

        @Override
        public int[] globalShape() {
            return global.clone();
        }

        @Override
        public int[] serialShape() {
            return global.clone();
        }

        @Override
        public boolean holdsWhole() {
            return false;
        }

        @Override
        public String placement() {
            return "half of the rows";
        }

        @Override
        protected Tensor full(Tensor shard) {
            calls.add("full");
            return Tensor.cat(0, shard.local(), shard.local());
        }

        @Override
        protected Tensor view(Tensor shard, int[] shape) {
            calls.add("view");
            int[] local = shape.clone();
            local[0] /= 2;
            return localReshape(shard, local);
        }

        @Override
        protected Tensor permute(Tensor shard, int[] dims) {
            calls.add("permute");
            return localPermute(shard, dims);
        }

        @Override
        protected Tensor narrow(Tensor shard, int dim, int start, int length) {
            calls.add("narrow");
            return localNarrow(shard, dim, start, length);
        }

        @Override
        protected Tensor cat(int dim, List<Tensor> tensors) {
            calls.add("cat");
            return localCat(dim, tensors);
        }

        @Override
        protected Distribution forCopy() {
            calls.add("forCopy");
            return new HalfRows(new int[] {global[0] / 2, global[1]});
        }
    }

    @Test
    void viewOpsOnAShardGoThroughItsDistributionWithGlobalArguments() {
        HalfRows rows = new HalfRows(new int[] {2, 3});
        Tensor shard = rows.label(Tensor.arange(6).view(2, 3));
        assertThat(shard.isDistributed()).isTrue();
        assertThat(shard.globalShape()).containsExactly(4, 3);
        assertThat(shard.view(4, 3).shape()).containsExactly(2, 3);
        shard.transpose(0, 1);
        shard.narrow(1, 0, 2);
        Tensor.cat(0, Tensor.zeros(1, 3), shard);
        assertThat(rows.calls).containsExactly("view", "permute", "narrow", "cat");
    }

    @Test
    void aPlainTensorNeverReachesAHook() {
        Tensor plain = Tensor.arange(6);
        assertThat(plain.isDistributed()).isFalse();
        assertThat(plain.globalShape()).containsExactly(6);
        assertThat(Distribution.of(plain.view(2, 3))).isNull();
    }

    @Test
    void aContiguousCopyGetsItsOwnDistributionAndDetachDropsIt() {
        HalfRows rows = new HalfRows(new int[] {3, 2});
        Tensor transposed = rows.label(Tensor.arange(6).view(2, 3).localPermute(new int[] {1, 0}));
        Tensor copy = transposed.contiguous();
        assertThat(rows.calls).containsExactly("forCopy");
        assertThat(Distribution.of(copy)).isNotNull().isNotSameAs(rows);
        assertThat(copy.globalShape()).containsExactly(6, 2);
        assertThat(transposed.detach().isDistributed()).isFalse();
    }

    @Test
    void aShardAnswersInGlobalTermsAndItsDataIsReachedThroughLocal() {
        HalfRows rows = new HalfRows(new int[] {2, 3});
        Tensor shard = rows.label(Tensor.arange(6).view(2, 3));
        assertThat(shard.shape()).containsExactly(4, 3);
        assertThat(shard.size(0)).isEqualTo(4);
        assertThat(shard.numel()).isEqualTo(12);
        assertThat(shard.dim()).isEqualTo(2);
        assertThat(shard.localShape()).containsExactly(2, 3);
        assertThat(shard.localNumel()).isEqualTo(6);
        Tensor local = shard.local();
        assertThat(local.isDistributed()).isFalse();
        assertThat(local.shape()).containsExactly(2, 3);
        assertThat(local.get(1, 2)).isEqualTo(5f);
        assertThat(shard.full().shape()).containsExactly(4, 3);
        assertThat(rows.calls).containsExactly("full");
    }

    @Test
    void elementAccessOnAShardIsRefusedSayingHow() {
        Tensor shard = new HalfRows(new int[] {2, 3}).label(Tensor.arange(6).view(2, 3));
        for (Runnable access : List.<Runnable>of(() -> shard.get(0, 0), shard::toFloatArray, shard::item, () -> shard.set(1f, 0, 0))) {
            assertThatThrownBy(access::run).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("[4, 3] is half of the rows (this rank holds [2, 3])")
                    .hasMessageContaining("call full()").hasMessageContaining("local()");
        }
        assertThat(shard.local().toFloatArray()).containsExactly(0, 1, 2, 3, 4, 5);
    }

    @Test
    void localIsDifferentiableAndItsGradientIsTheShards() {
        Tensor shard = new HalfRows(new int[] {2, 3}).label(Tensor.arange(6).view(2, 3)).requiresGrad(true);
        shard.local().backward(Tensor.ones(2, 3));
        assertThat(shard.grad().shape()).containsExactly(2, 3);
    }
}
