import Type from 'typebox';

export const FaultsSchema = Type.Object({
  dbLatencyMs: Type.Number(),
  cacheLatencyMs: Type.Number(),
  errorRate: Type.Number(),
  cpuBurnThreads: Type.Integer(),
  leakedMb: Type.Number(),
  leakMbPerSecond: Type.Number(),
});

const Ms = Type.Integer({ minimum: 0, maximum: 60_000 });

export const LatencyFaultSchema = Type.Object(
  { dbMs: Type.Optional(Ms), cacheMs: Type.Optional(Ms) },
  { additionalProperties: false, minProperties: 1 },
);
export const ErrorFaultSchema = Type.Object({ rate: Type.Number({ minimum: 0, maximum: 1 }) }, { additionalProperties: false });
export const CpuFaultSchema = Type.Object(
  {
    threads: Type.Integer({ minimum: 1, maximum: 8, default: 1 }),
    durationMs: Type.Integer({ minimum: 1, maximum: 3_600_000, default: 60_000 }),
  },
  { additionalProperties: false },
);
export const LeakFaultSchema = Type.Object(
  {
    mbPerSecond: Type.Number({ exclusiveMinimum: 0, maximum: 512, default: 10 }),
    maxMb: Type.Integer({ minimum: 1, maximum: 16_384, default: 1_024 }),
  },
  { additionalProperties: false },
);
export const BlockFaultSchema = Type.Object({ ms: Type.Integer({ minimum: 1, maximum: 60_000 }) }, { additionalProperties: false });
