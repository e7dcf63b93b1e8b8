import { ADMIN_PASSWORD, apiLogin, startServer } from './helpers.mjs';
const N = Number(process.env.N || 1000), C = Number(process.env.C || 6);
const server = await startServer('floor');
try {
  const token = await apiLogin(server, 'admin', ADMIN_PASSWORD);
  const bodies = Array.from({ length: N }, (_, i) => JSON.stringify({ id: crypto.randomUUID(), given_name: `کودک ${i}`, family_name: 'floor', sex: i % 2 ? 'male' : 'female', nationality: 'afghan', home_province: 'IR-23' }));
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: C }, async () => {
    while (next < N) {
      const b = bodies[next++];
      const r = await fetch(`${server.url}/api/v1/children`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, accept: 'application/json' }, body: b });
      await r.text();
      if (r.status !== 201 && r.status !== 200) throw new Error(`status ${r.status}`);
    }
  }));
  console.log(JSON.stringify({ N, C, seconds: ((performance.now() - t0) / 1000).toFixed(2) }));
} finally { await server.stop(); }
