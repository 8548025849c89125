/**
 * Moving-emoji clips: the four motion types (a clip's class), their seeded trajectories, and a
 * pure-TypeScript sprite renderer (supersampled bilinear inverse mapping, alpha over white). No
 * image library takes part after the sprites are loaded, so sub-pixel motion, scaling and
 * rotation rebuild to the same bytes on every run.
 *
 * Every parameter is drawn on a coarse decimal grid (quarter pixels, whole degrees, scale steps
 * of 0.05) so the values written to clips.json are exact: a clip re-renders from its record.
 * @module
 */
import type { Rng } from "../util/rng.ts";

/** The classes, in label order: how the main emoji moves. */
export const MOTION_CLASSES = ["slide", "bounce", "zoom", "spin"] as const;
/** One motion type. */
export type MotionClass = typeof MOTION_CLASSES[number];

/** A uniform draw from min, min + step, ..., max. */
export interface GridRange {
  /** Smallest value. */
  min: number;
  /** Largest value. */
  max: number;
  /** Spacing of the values. */
  step: number;
}

/**
 * The generator's settings (written to the manifest as they are). Sides are in frame pixels,
 * velocities in pixels per frame, times in frames, angles in degrees (clockwise on screen).
 */
export const CLIP_GENERATOR = {
  frames: 5,
  frameSize: 24,
  /** Side of the RGBA sprite pictures (sharp lanczos3 from the packages' 64 px PNGs). */
  spriteTexels: 48,
  /** Samples per pixel along each axis (4 x 4 bilinear samples averaged per pixel). */
  supersample: 4,
  /**
   * Side of the main emoji's square picture: 12-16 px keeps it recognisable (4-5 tokens across
   * at patch 3) and leaves 8-12 px to move in a 24 px frame, and zoomed 1.4x it still fits.
   */
  mainSide: { min: 12, max: 16, step: 1 },
  slide: {
    velocity: { min: -2.25, max: 2.25, step: 0.125 },
    minSpeed: 1,
    maxSpeed: 2.25,
    positionStep: 0.25,
  },
  bounce: {
    /** Height of the sprite centre above its floor position at frame 0. */
    drop: { min: 5, max: 10, step: 0.25 },
    /** Downward velocity at frame 0 (0 = released at rest). */
    vy0: { min: 0, max: 1, step: 0.125 },
    /** Frame time of the first floor contact (gravity follows from drop, vy0 and tHit). */
    tHit: { min: 1.25, max: 2.75, step: 0.25 },
    /** Share of the speed kept at each bounce. */
    restitution: { min: 0.55, max: 0.85, step: 0.05 },
    /** Horizontal drift speed, either sign. */
    drift: { min: 0.25, max: 1, step: 0.125 },
    positionStep: 0.25,
  },
  zoom: {
    /** Scale at the small end (relative to the main side). */
    small: { min: 0.6, max: 0.8, step: 0.05 },
    /** Scale at the large end. */
    large: { min: 1.2, max: 1.4, step: 0.05 },
    positionStep: 0.25,
  },
  spin: {
    /** Angle at frame 0. */
    angle0: { min: -30, max: 30, step: 1 },
    /** Total turn over the clip, either sign. */
    turn: { min: 60, max: 120, step: 1 },
    positionStep: 0.25,
  },
  distractor: {
    /** Chance that a second emoji slides behind the main one. */
    probability: 0.3,
    /** Its side as a fraction of the main side (rounded to whole pixels, at least minSide). */
    sideFraction: { min: 0.5, max: 0.7, step: 0.05 },
    minSide: 6,
    velocity: { min: -2, max: 2, step: 0.125 },
    minSpeed: 0.5,
    maxSpeed: 2,
  },
} as const;

/** Where a sprite is in one frame. */
export interface Pose {
  /** Centre column in frame pixels (the frame spans [0, frameSize]). */
  x: number;
  /** Centre row in frame pixels. */
  y: number;
  /** Side of the square picture in frame pixels. */
  side: number;
  /** Rotation in degrees, clockwise on screen. */
  angle: number;
}

/** A motion and its parameters; the kind of the main emoji's motion is the clip's class. */
export type Motion =
  | { kind: "slide"; x0: number; y0: number; vx: number; vy: number }
  | {
    kind: "bounce";
    x0: number;
    vx: number;
    drop: number;
    vy0: number;
    tHit: number;
    restitution: number;
  }
  | { kind: "zoom"; x: number; y: number; from: number; to: number }
  | { kind: "spin"; x: number; y: number; angle0: number; turn: number };

/** One sprite's layer of a clip: its base side and motion. */
export interface Layer {
  /** Side in frame pixels before any zoom. */
  side: number;
  /** How it moves. */
  motion: Motion;
}

/** The moving parts of one clip (which emoji fill them is chosen by the builder). */
export interface ClipMotion {
  /** The main emoji; its motion kind is the label. */
  main: Layer;
  /** A smaller emoji sliding behind the main one, in about 30% of the clips. */
  distractor?: Layer;
}

/** Round away binary noise so grid values print as short exact decimals. */
function clean(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

/** A uniform draw from a {@link GridRange}. */
export function drawGrid(rng: Rng, r: GridRange): number {
  return clean(r.min + rng.int(Math.round((r.max - r.min) / r.step) + 1) * r.step);
}

/** A uniform draw on multiples of `step` in [lo, hi] (lo <= hi assumed met by the caller). */
function drawBetween(rng: Rng, lo: number, hi: number, step: number): number {
  const a = Math.ceil(clean(lo / step));
  const b = Math.floor(clean(hi / step));
  if (b < a) throw new RangeError(`no multiple of ${step} in [${lo}, ${hi}]`);
  return clean((a + rng.int(b - a + 1)) * step);
}

/** Gravity of a bounce, from its drop, start velocity and contact time. */
export function bounceGravity(m: Extract<Motion, { kind: "bounce" }>): number {
  return 2 * (m.drop - m.vy0 * m.tHit) / (m.tHit * m.tHit);
}

/** Height of a bouncing sprite's centre above its floor position at time t (ballistic). */
function bounceHeight(m: Extract<Motion, { kind: "bounce" }>, t: number): number {
  const g = bounceGravity(m);
  if (t <= m.tHit) return m.drop - m.vy0 * t - g * t * t / 2;
  let start = m.tHit;
  let v = m.restitution * (m.vy0 + g * m.tHit); // upward speed leaving the floor
  while (v > 1e-9) {
    const flight = 2 * v / g;
    if (t <= start + flight) {
      const s = t - start;
      return Math.max(0, v * s - g * s * s / 2);
    }
    start += flight;
    v *= m.restitution;
  }
  return 0;
}

/**
 * The pose of a layer in each of `frames` frames (time t = 0, 1, ..., frames - 1).
 * @example
 * posesOf({ side: 14, motion: { kind: "spin", x: 12, y: 12, angle0: 0, turn: 90 } });
 */
export function posesOf(
  layer: Layer,
  frames: number = CLIP_GENERATOR.frames,
  size: number = CLIP_GENERATOR.frameSize,
): Pose[] {
  const m = layer.motion;
  const last = Math.max(1, frames - 1);
  const poses: Pose[] = [];
  for (let t = 0; t < frames; t++) {
    const u = t / last;
    switch (m.kind) {
      case "slide":
        poses.push({ x: m.x0 + m.vx * t, y: m.y0 + m.vy * t, side: layer.side, angle: 0 });
        break;
      case "bounce":
        poses.push({
          x: m.x0 + m.vx * t,
          y: size - layer.side / 2 - bounceHeight(m, t),
          side: layer.side,
          angle: 0,
        });
        break;
      case "zoom": // geometric, so every step scales by the same factor
        poses.push({ x: m.x, y: m.y, side: layer.side * m.from * (m.to / m.from) ** u, angle: 0 });
        break;
      case "spin":
        poses.push({ x: m.x, y: m.y, side: layer.side, angle: m.angle0 + m.turn * u });
        break;
    }
  }
  return poses;
}

/** Half the side of the axis-aligned box around a pose's (possibly rotated) square. */
export function halfExtent(pose: Pose): number {
  const r = pose.angle * Math.PI / 180;
  return pose.side / 2 * (Math.abs(Math.cos(r)) + Math.abs(Math.sin(r)));
}

/** True when every pose's whole square (transparent margin included) lies inside the frame. */
export function insideFrame(poses: Pose[], size: number = CLIP_GENERATOR.frameSize): boolean {
  const eps = 1e-9;
  return poses.every((p) => {
    const h = halfExtent(p);
    return p.x - h >= -eps && p.x + h <= size + eps && p.y - h >= -eps && p.y + h <= size + eps;
  });
}

/** Start position along one axis so that start and start + 4 v stay in [h, size - h]. */
function startFor(rng: Rng, h: number, travel: number, size: number, step: number): number {
  return drawBetween(rng, h - Math.min(0, travel), size - h - Math.max(0, travel), step);
}

/** A velocity pair on the grid with a speed in [minSpeed, maxSpeed] and travel that fits. */
function drawVelocity(
  rng: Rng,
  range: GridRange,
  minSpeed: number,
  maxSpeed: number,
  room: number,
  steps: number,
): [number, number] {
  for (;;) {
    const vx = drawGrid(rng, range);
    const vy = drawGrid(rng, range);
    const speed = Math.hypot(vx, vy);
    const fits = Math.abs(vx * steps) <= room && Math.abs(vy * steps) <= room;
    if (speed >= minSpeed && speed <= maxSpeed && fits) return [vx, vy];
  }
}

/**
 * Draw the parameters of one motion of `kind` for a sprite of `side` pixels, so the sprite stays
 * wholly inside the frame in every frame.
 */
export function drawMotion(
  rng: Rng,
  kind: MotionClass,
  side: number,
  frames: number = CLIP_GENERATOR.frames,
  size: number = CLIP_GENERATOR.frameSize,
): Motion {
  const G = CLIP_GENERATOR;
  const h = side / 2;
  const steps = frames - 1;
  switch (kind) {
    case "slide": {
      const s = G.slide;
      const [vx, vy] = drawVelocity(rng, s.velocity, s.minSpeed, s.maxSpeed, size - side, steps);
      return {
        kind,
        x0: startFor(rng, h, vx * steps, size, s.positionStep),
        y0: startFor(rng, h, vy * steps, size, s.positionStep),
        vx,
        vy,
      };
    }
    case "bounce": {
      const b = G.bounce;
      for (;;) {
        const drop = drawGrid(rng, b.drop);
        const vy0 = drawGrid(rng, b.vy0);
        const tHit = drawGrid(rng, b.tHit);
        const restitution = drawGrid(rng, b.restitution);
        const vx = drawGrid(rng, b.drift) * (rng.int(2) === 0 ? -1 : 1);
        if (drop > size - side || vy0 * tHit >= drop || Math.abs(vx * steps) > size - side) {
          continue; // does not fit this side, or would need upward gravity: draw again
        }
        const x0 = startFor(rng, h, vx * steps, size, b.positionStep);
        const m: Motion = { kind, x0, vx, drop, vy0, tHit, restitution };
        if (insideFrame(posesOf({ side, motion: m }, frames, size), size)) return m;
      }
    }
    case "zoom": {
      const z = G.zoom;
      const small = drawGrid(rng, z.small);
      const large = drawGrid(rng, z.large);
      const zoomIn = rng.int(2) === 0;
      const hMax = h * large;
      return {
        kind,
        x: drawBetween(rng, hMax, size - hMax, z.positionStep),
        y: drawBetween(rng, hMax, size - hMax, z.positionStep),
        from: zoomIn ? small : large,
        to: zoomIn ? large : small,
      };
    }
    case "spin": {
      const s = G.spin;
      const angle0 = drawGrid(rng, s.angle0);
      const turn = drawGrid(rng, s.turn) * (rng.int(2) === 0 ? -1 : 1);
      const probe: Motion = { kind, x: 0, y: 0, angle0, turn };
      const hMax = Math.max(...posesOf({ side, motion: probe }, frames, size).map(halfExtent));
      return {
        kind,
        x: drawBetween(rng, hMax, size - hMax, s.positionStep),
        y: drawBetween(rng, hMax, size - hMax, s.positionStep),
        angle0,
        turn,
      };
    }
  }
}

/**
 * Draw a clip's motions: the main emoji (side, then `kind`'s parameters) and, with probability
 * {@link CLIP_GENERATOR}.distractor.probability, a smaller emoji sliding behind it.
 */
export function drawClipMotion(
  rng: Rng,
  kind: MotionClass,
  frames: number = CLIP_GENERATOR.frames,
  size: number = CLIP_GENERATOR.frameSize,
): ClipMotion {
  const G = CLIP_GENERATOR;
  const side = drawGrid(rng, G.mainSide);
  const main: Layer = { side, motion: drawMotion(rng, kind, side, frames, size) };
  if (rng.next() >= G.distractor.probability) return { main };
  const d = G.distractor;
  const dSide = Math.max(d.minSide, Math.round(side * drawGrid(rng, d.sideFraction)));
  const [vx, vy] = drawVelocity(rng, d.velocity, d.minSpeed, d.maxSpeed, size - dSide, frames - 1);
  const h = dSide / 2;
  const distractor: Layer = {
    side: dSide,
    motion: {
      kind: "slide",
      x0: startFor(rng, h, vx * (frames - 1), size, G.slide.positionStep),
      y0: startFor(rng, h, vy * (frames - 1), size, G.slide.positionStep),
      vx,
      vy,
    },
  };
  return { main, distractor };
}

/**
 * An RGBA sprite ready to sample: `texels` x `texels`, premultiplied, colour 0..255 scaled by
 * alpha and alpha 0..1, so bilinear blends never bleed the colour of transparent texels.
 */
export interface Sprite {
  /** Side in texels. */
  texels: number;
  /** texels * texels * 4 values: premultiplied R, G, B (0..255) and alpha (0..1). */
  data: Float32Array;
}

/** A {@link Sprite} from straight (non-premultiplied) RGBA bytes. */
export function spriteFromRgba(rgba: Uint8Array, texels: number): Sprite {
  if (rgba.length !== texels * texels * 4) {
    throw new RangeError(`sprite has ${rgba.length} bytes, expected ${texels}*${texels}*4`);
  }
  const data = new Float32Array(rgba.length);
  for (let i = 0; i < rgba.length; i += 4) {
    const a = rgba[i + 3] / 255;
    data[i] = rgba[i] * a;
    data[i + 1] = rgba[i + 1] * a;
    data[i + 2] = rgba[i + 2] * a;
    data[i + 3] = a;
  }
  return { texels, data };
}

/**
 * Composite a sprite at `pose` over `canvas` (float RGB 0..255, size x size x 3, row-major): for
 * each pixel near the sprite, `supersample`^2 points are mapped back into the sprite (inverse
 * rotation and scale) and sampled bilinearly, transparent outside it; their mean is laid over the
 * canvas with its alpha.
 */
export function drawSprite(
  canvas: Float64Array,
  size: number,
  sprite: Sprite,
  pose: Pose,
  supersample: number = CLIP_GENERATOR.supersample,
): void {
  const T = sprite.texels;
  const tex = sprite.data;
  const rad = pose.angle * Math.PI / 180;
  const cos = Math.cos(rad);
  const sin = Math.sin(rad);
  const k = T / pose.side; // texels per frame pixel
  const half = halfExtent(pose);
  const x0 = Math.max(0, Math.floor(pose.x - half));
  const x1 = Math.min(size - 1, Math.ceil(pose.x + half));
  const y0 = Math.max(0, Math.floor(pose.y - half));
  const y1 = Math.min(size - 1, Math.ceil(pose.y + half));
  const n = supersample;
  const norm = 1 / (n * n);
  for (let py = y0; py <= y1; py++) {
    for (let px = x0; px <= x1; px++) {
      let r = 0, g = 0, b = 0, a = 0;
      for (let sy = 0; sy < n; sy++) {
        const dy = py + (sy + 0.5) / n - pose.y;
        for (let sx = 0; sx < n; sx++) {
          const dx = px + (sx + 0.5) / n - pose.x;
          // Texel-centre coordinates: texel i covers [i, i + 1), its centre is i + 0.5.
          const u = T / 2 + (cos * dx + sin * dy) * k - 0.5;
          const v = T / 2 + (cos * dy - sin * dx) * k - 0.5;
          const iu = Math.floor(u);
          const iv = Math.floor(v);
          if (iu < -1 || iv < -1 || iu >= T || iv >= T) continue;
          const fu = u - iu;
          const fv = v - iv;
          for (let c = 0; c < 4; c++) {
            const tu = iu + (c & 1);
            const tv = iv + (c >> 1);
            if (tu < 0 || tv < 0 || tu >= T || tv >= T) continue;
            const w = ((c & 1) ? fu : 1 - fu) * ((c >> 1) ? fv : 1 - fv);
            const o = (tv * T + tu) * 4;
            r += w * tex[o];
            g += w * tex[o + 1];
            b += w * tex[o + 2];
            a += w * tex[o + 3];
          }
        }
      }
      if (a === 0) continue;
      const o = (py * size + px) * 3;
      const keep = 1 - a * norm;
      canvas[o] = canvas[o] * keep + r * norm;
      canvas[o + 1] = canvas[o + 1] * keep + g * norm;
      canvas[o + 2] = canvas[o + 2] * keep + b * norm;
    }
  }
}

/**
 * Render a clip: each frame starts white and the layers are drawn in order (back to front).
 * Returns frames * size * size * 3 RGB bytes, frame-major.
 * @example
 * const rgb = renderClip([{ sprite, poses: posesOf(layer) }]);
 */
export function renderClip(
  layers: { sprite: Sprite; poses: Pose[] }[],
  frames: number = CLIP_GENERATOR.frames,
  size: number = CLIP_GENERATOR.frameSize,
  supersample: number = CLIP_GENERATOR.supersample,
): Uint8Array {
  const per = size * size * 3;
  const out = new Uint8Array(frames * per);
  const canvas = new Float64Array(per);
  for (let f = 0; f < frames; f++) {
    canvas.fill(255);
    for (const layer of layers) drawSprite(canvas, size, layer.sprite, layer.poses[f], supersample);
    for (let i = 0; i < per; i++) {
      out[f * per + i] = Math.round(Math.min(255, Math.max(0, canvas[i])));
    }
  }
  return out;
}
