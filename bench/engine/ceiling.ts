/**
 * The machine's matrix-multiply ceiling as onnxruntime sees it, in GFLOP/s: an fp32
 * [64 × 1024] · [1024 × 4096] MatMul (a prefill-sized product), and the same weights in 4 bits
 * (MatMulNBits, as in q4 exports) for 16 rows (about one message). The benchmark reports the
 * engine's speed against the first and explains the gap with the second.
 */
export const CEILING_SHAPES = {
  matmul: { m: 64, k: 1024, n: 4096 },
  matmulnbits: { m: 16, k: 1024, n: 4096 },
  matmulinteger: { m: 16, k: 1024, n: 4096 },
} as const;
export type CeilingModel = keyof typeof CEILING_SHAPES;

interface CeilingSession {
  run(feeds: Record<string, unknown>): Promise<unknown>;
}

export async function measureCeiling(
  session: CeilingSession,
  model: CeilingModel,
  makeInput: (data: Float32Array, dims: number[]) => unknown,
  runs = 20,
): Promise<{ gflops: number; msPerRun: number }> {
  const { m, k, n } = CEILING_SHAPES[model];
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
