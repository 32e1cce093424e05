// The @upstash/redis client the Tessera Upstash scenario and the bare-upstash floor share, on the
// bench's local Upstash REST server (UPSTASH_URL, UPSTASH_TOKEN; bench/lib/upstash-rest.mjs).
// Auto-pipelining off: each command is its own HTTP request, as each UpstashStore operation is,
// so the floor is not helped by batching the commands of concurrent requests into one /pipeline.
// Deserialization off: the floor parses its JSON itself, like bare-redis (UpstashStore reads raw
// replies whatever this says). Telemetry off: no extra headers.
export async function upstashClient() {
  const url = process.env.UPSTASH_URL
  const token = process.env.UPSTASH_TOKEN
  if (!url || !token) throw new Error('UPSTASH_URL / UPSTASH_TOKEN are not set')
  const { Redis } = await import('@upstash/redis')
  return new Redis({ url, token, enableAutoPipelining: false, automaticDeserialization: false, enableTelemetry: false })
}
