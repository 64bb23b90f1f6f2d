package io.colo4j.zoo.train;

import io.colo4j.zoo.io.AtomicFiles;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/** A loss-curve PNG (raw loss and its moving average against the step), drawn headless with Java2D. */
public final class LossCurve {
    static {
        System.setProperty("java.awt.headless", "true");
    }

    private static final int W = 900;
    private static final int H = 540;
    private static final int LEFT = 80;
    private static final int RIGHT = 30;
    private static final int TOP = 50;
    private static final int BOTTOM = 70;

    private LossCurve() {}

    /** Writes the PNG atomically; {@code losses.get(i)} is the loss of step i (0-based). */
    public static void write(Path png, List<Double> losses, String title) throws IOException {
        AtomicFiles.writeBytes(png, render(losses, title));
    }

    public static byte[] render(List<Double> losses, String title) throws IOException {
        BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, W, H);
            draw(g, losses, title);
        } finally {
            g.dispose();
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (!ImageIO.write(img, "png", out)) {
            throw new IOException("no PNG writer available");
        }
        return out.toByteArray();
    }

    private static void draw(Graphics2D g, List<Double> losses, String title) {
        int pw = W - LEFT - RIGHT;
        int ph = H - TOP - BOTTOM;
        int n = losses.size();
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (double v : losses) {
            if (Double.isFinite(v)) {
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
        }
        if (!(lo <= hi)) {
            lo = 0;
            hi = 1;
        }
        if (hi - lo < 1e-9) {
            hi = lo + 1;
        }
        double[] yTicks = ticks(lo, hi, 6);
        lo = Math.min(lo, yTicks[0]);
        hi = Math.max(hi, yTicks[yTicks.length - 1]);
        double xMax = Math.max(1, n - 1);
        double[] xTicks = ticks(0, xMax, 8);
        xMax = Math.max(xMax, xTicks[xTicks.length - 1]);

        Font font = new Font(Font.SANS_SERIF, Font.PLAIN, 13);
        g.setFont(font);
        FontMetrics fm = g.getFontMetrics();
        g.setStroke(new BasicStroke(1f));
        for (double t : yTicks) {
            int y = TOP + ph - (int) Math.round((t - lo) / (hi - lo) * ph);
            g.setColor(new Color(230, 230, 230));
            g.drawLine(LEFT, y, LEFT + pw, y);
            g.setColor(Color.DARK_GRAY);
            g.drawLine(LEFT - 5, y, LEFT, y);
            String s = format(t);
            g.drawString(s, LEFT - 8 - fm.stringWidth(s), y + fm.getAscent() / 2 - 1);
        }
        for (double t : xTicks) {
            int x = LEFT + (int) Math.round(t / xMax * pw);
            g.setColor(new Color(230, 230, 230));
            g.drawLine(x, TOP, x, TOP + ph);
            g.setColor(Color.DARK_GRAY);
            g.drawLine(x, TOP + ph, x, TOP + ph + 5);
            String s = format(t);
            g.drawString(s, x - fm.stringWidth(s) / 2, TOP + ph + 8 + fm.getAscent());
        }
        g.setColor(Color.BLACK);
        g.drawRect(LEFT, TOP, pw, ph);
        if (n > 0) {
            Path2D raw = new Path2D.Double();
            Path2D smooth = new Path2D.Double();
            double ema = Double.NaN;
            double alpha = 2.0 / (Math.max(2, Math.min(50, n / 10)) + 1);
            boolean started = false;
            for (int i = 0; i < n; i++) {
                double v = losses.get(i);
                if (!Double.isFinite(v)) {
                    continue;
                }
                ema = Double.isNaN(ema) ? v : ema + alpha * (v - ema);
                double x = LEFT + (n == 1 ? 0 : i / xMax * pw);
                double y = TOP + ph - (v - lo) / (hi - lo) * ph;
                double ys = TOP + ph - (ema - lo) / (hi - lo) * ph;
                if (!started) {
                    raw.moveTo(x, y);
                    smooth.moveTo(x, ys);
                    started = true;
                } else {
                    raw.lineTo(x, y);
                    smooth.lineTo(x, ys);
                }
            }
            g.setColor(new Color(150, 190, 235));
            g.setStroke(new BasicStroke(1f));
            g.draw(raw);
            g.setColor(new Color(20, 70, 160));
            g.setStroke(new BasicStroke(2.2f));
            g.draw(smooth);
        }
        g.setColor(Color.BLACK);
        g.setFont(font.deriveFont(Font.BOLD, 16f));
        FontMetrics tm = g.getFontMetrics();
        g.drawString(title, LEFT + (pw - tm.stringWidth(title)) / 2, TOP - 18);
        g.setFont(font.deriveFont(14f));
        FontMetrics lm = g.getFontMetrics();
        g.drawString("step", LEFT + (pw - lm.stringWidth("step")) / 2, H - 20);
        AffineTransform saved = g.getTransform();
        g.rotate(-Math.PI / 2);
        g.drawString("loss (cross-entropy, nats)", -(TOP + (ph + lm.stringWidth("loss (cross-entropy, nats)")) / 2), 22);
        g.setTransform(saved);
        g.setFont(font.deriveFont(12f));
        g.setColor(new Color(150, 190, 235));
        g.fillRect(LEFT + pw - 150, TOP + 10, 14, 4);
        g.setColor(new Color(20, 70, 160));
        g.fillRect(LEFT + pw - 150, TOP + 28, 14, 4);
        g.setColor(Color.DARK_GRAY);
        g.drawString("loss per step", LEFT + pw - 130, TOP + 16);
        g.drawString("moving average", LEFT + pw - 130, TOP + 34);
    }

    /** "Nice" tick values covering [lo, hi]. */
    static double[] ticks(double lo, double hi, int target) {
        double range = hi - lo;
        double raw = range / Math.max(1, target - 1);
        double mag = Math.pow(10, Math.floor(Math.log10(raw)));
        double step = mag;
        for (double m : new double[] {1, 2, 2.5, 5, 10}) {
            if (m * mag >= raw) {
                step = m * mag;
                break;
            }
        }
        double start = Math.floor(lo / step) * step;
        double end = Math.ceil(hi / step) * step;
        int count = (int) Math.round((end - start) / step) + 1;
        double[] out = new double[count];
        for (int i = 0; i < count; i++) {
            out[i] = start + i * step;
        }
        return out;
    }

    private static String format(double v) {
        if (Math.abs(v - Math.rint(v)) < 1e-9) {
            return Long.toString(Math.round(v));
        }
        return String.format(Locale.ROOT, "%.2f", v);
    }
}
