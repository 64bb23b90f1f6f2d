package io.colo4j.ops.nn;

import io.colo4j.ops.F;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.nn.Module;

/**
 * torch.nn.Dropout whose mask is drawn by the element's global index from the step's seed and this site's
 * name ({@link DropoutSeeds}), so a sharded run drops exactly the elements the serial run drops, and the
 * mask does not depend on the order the sites run in. Inactive in eval mode.
 */
public final class Dropout extends Module {
    private final float p;
    private final String site;

    /**
     * @param p    the probability of dropping an element
     * @param site the name the mask is drawn under, unique in the model: its dotted path (e.g. {@code h.0.attn_dropout})
     */
    public Dropout(float p, String site) {
        if (!(p >= 0f && p < 1f)) {
            throw new IllegalArgumentException("Dropout '" + site + "': p must be in [0, 1), got " + p);
        }
        this.p = p;
        this.site = site;
    }

    /** x with each element dropped with probability p (the rest scaled by 1/(1-p)), drawn from {@code stepSeed} ({@link DropoutSeeds#step}). */
    public Tensor forward(Tensor x, long stepSeed) {
        return F.dropout(x, p, isTraining(), DropoutSeeds.site(stepSeed, site));
    }

    public float p() {
        return p;
    }

    public String site() {
        return site;
    }
}
