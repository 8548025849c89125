/** Schedule builders are on the sampler's start-up path: keep them cheap. */
import { makeGrid } from "../src/media/mod.ts";
import { par, raster, rasterGroups, stepSlots } from "../src/schedule/mod.ts";

const image = makeGrid(24, 24);
const video = makeGrid(16, 16, 5);

Deno.bench("raster 24x24", { group: "build" }, () => {
  raster(image);
});
Deno.bench("par m=2 24x24", { group: "build", baseline: true }, () => {
  par(image, { m: 2 });
});
Deno.bench("par m=4 24x24", { group: "build" }, () => {
  par(image, { m: 4 });
});
Deno.bench("raster groups n=4 24x24", { group: "build" }, () => {
  rasterGroups(image, { n: 4 });
});
Deno.bench("par m=2 video 5x16x16", { group: "build" }, () => {
  par(video, { m: 2 });
});
Deno.bench("slot layout par m=2", () => {
  stepSlots(par(image, { m: 2 }));
});
