/**
 * `deno task loss-curves`: the training curves of the experiment models, all configurations on
 * one plot (training loss, smoothed, and validation NLL in nats per token), with the tokens'
 * unigram entropy as the bar a context-free model would reach.
 *
 *   deno task loss-curves [--logs fixtures/models] [--out analysis/figures/loss_curves]
 *
 * Reads `emoji-<config>.log.json` (the curves python/train.py logs, copied beside each model).
 * @module
 */
import { parseFlags, Plot, plotFigure, runMain, saveFigure, UsageError, z } from "./deps.ts";

const Flags = z.object({
  logs: z.string().default("fixtures/models"),
  out: z.string().default("analysis/figures/loss_curves"),
  smooth: z.string().regex(/^\d+$/, "must be a whole number of steps").transform(Number).default(
    20,
  ),
});

const LogSchema = z.object({
  config: z.string(),
  train: z.array(z.object({ step: z.number(), loss: z.number() })),
  val: z.array(z.object({ step: z.number(), nll: z.number() })),
  unigramEntropyNats: z.number().optional(),
});

async function main(): Promise<void> {
  const f = parseFlags(
    Deno.args,
    Flags,
    [],
    "Usage: deno task loss-curves [--logs DIR] [--out PATH] [--smooth N]",
  );
  const logs: z.infer<typeof LogSchema>[] = [];
  for await (const e of Deno.readDir(f.logs)) {
    if (!/^emoji-.*\.log\.json$/.test(e.name)) continue;
    const parsed = LogSchema.safeParse(JSON.parse(await Deno.readTextFile(`${f.logs}/${e.name}`)));
    if (!parsed.success) {
      throw new UsageError(
        `${e.name}: field "${parsed.error.issues[0].path.join(".")}": ${
          parsed.error.issues[0].message
        }`,
      );
    }
    logs.push(parsed.data);
  }
  if (logs.length === 0) {
    throw new UsageError(
      `--logs: no emoji-*.log.json in ${f.logs}. Fix: train with python/train_experiments.sh`,
    );
  }
  logs.sort((a, b) => a.config.localeCompare(b.config));
  const train = logs.flatMap((log) =>
    log.train.map((p, i) => {
      // Mean over the logged points of the last `smooth` training steps.
      const window = log.train.slice(0, i + 1).filter((q) => q.step > p.step - f.smooth);
      return {
        config: log.config,
        step: p.step,
        loss: window.reduce((a, x) => a + x.loss, 0) / window.length,
      };
    })
  );
  const val = logs.flatMap((log) =>
    log.val.map((p) => ({ config: log.config, step: p.step, nll: p.nll }))
  );
  const unigram = logs.find((l) => l.unigramEntropyNats)?.unigramEntropyNats;
  // End labels sorted by value and pushed apart so close finishes stay legible.
  const last = logs.map((log) => ({ config: log.config, ...log.val.at(-1)!, labelY: 0 }))
    .sort((a, b) => a.nll - b.nll);
  const span = Math.max(...train.map((t) => t.loss)) - Math.min(...val.map((v) => v.nll));
  last.forEach((
    d,
    i,
  ) => (d.labelY = i === 0 ? d.nll : Math.max(d.nll, last[i - 1].labelY + span * 0.035)));
  const fig = plotFigure({
    title: "Experiment models: training loss (lines, smoothed) and val NLL (dots), nats/token",
    width: 760,
    height: 420,
    marginRight: 120,
    x: { label: "training step", grid: true },
    y: { label: "nats per token", grid: true },
    color: { type: "categorical", scheme: "tableau10", domain: logs.map((l) => l.config) },
    marks: [
      ...(unigram
        ? [
          Plot.ruleY([unigram], { stroke: "#888", strokeDasharray: "4,3" }),
          Plot.text([unigram], {
            y: (d: number) => d,
            x: 0,
            text: () => "unigram entropy",
            dy: -7,
            textAnchor: "start",
            fill: "#666",
          }),
        ]
        : []),
      Plot.line(train, { x: "step", y: "loss", stroke: "config", strokeWidth: 1.5 }),
      Plot.dot(val, { x: "step", y: "nll", fill: "config", r: 4 }),
      Plot.text(last, {
        x: "step",
        y: "labelY",
        text: (d: { config: string; nll: number }) => `${d.config} ${d.nll.toFixed(2)}`,
        fill: "config",
        textAnchor: "start",
        dx: 8,
      }),
    ],
  });
  const paths = await saveFigure(fig, f.out);
  console.log(`wrote ${paths.png} and ${paths.svg}`);
}

if (import.meta.main) await runMain("loss-curves", main);
