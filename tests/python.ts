/**
 * The PyTorch bridge as the tests see it: Debian's `/usr/bin/python3`, and whether it has torch
 * and onnx. Tests that need it are ignored where it is missing (a machine that ran only the
 * README's `npx deno task test`); CI installs it, so there they run.
 */
export const PYTHON = "/usr/bin/python3";

/** True when `/usr/bin/python3` imports torch and onnx. */
export const hasTorch: boolean = await new Deno.Command(PYTHON, {
  args: ["-c", "import torch, onnx"],
  stdout: "null",
  stderr: "null",
}).output().then((o) => o.success).catch(() => false);
