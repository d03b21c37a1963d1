/**
 * The machine's matrix-multiply ceiling as onnxruntime sees it: a [64 × 1024] · [1024 × 4096]
 * fp32 MatMul (a prefill-sized product) run repeatedly, in GFLOP/s. The benchmark reports the
 * engine's speed as a fraction of this.
 */
export const CEILING_SHAPE = { m: 64, k: 1024, n: 4096 } as const;

interface CeilingSession {
  run(feeds: Record<string, unknown>): Promise<unknown>;
}

export async function measureCeiling(
  session: CeilingSession,
  makeInput: (data: Float32Array, dims: number[]) => unknown,
  runs = 20,
): Promise<{ gflops: number; msPerRun: number }> {
  const { m, k, n } = CEILING_SHAPE;
  const a = makeInput(
    Float32Array.from({ length: m * k }, (_, i) => ((i % 17) - 8) / 8),
    [m, k],
  );
  for (let i = 0; i < 5; i++) await session.run({ a });
  const started = performance.now();
  for (let i = 0; i < runs; i++) await session.run({ a });
  const msPerRun = (performance.now() - started) / runs;
  return { gflops: (2 * m * k * n) / (msPerRun * 1e6), msPerRun };
}
