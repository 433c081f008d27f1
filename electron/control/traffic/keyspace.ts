import { request } from 'undici';

/** Users the generator reads come from the stack itself: this many at most. */
const MAX_KEYS = 10_000;
/** A stack with fewer users than this gets some, so reads have something to hit. */
const MIN_USERS = 200;

/**
 * The ids of existing users (oldest first, through the api's keyset pagination), creating
 * {@link MIN_USERS} first when the stack has fewer. Reads pick among these.
 */
export async function loadKeys(target: string, onProgress: (message: string) => void = () => undefined): Promise<number[]> {
  const list = async (): Promise<number[]> => {
    const ids: number[] = [];
    let cursor: string | undefined;
    while (ids.length < MAX_KEYS) {
      const { statusCode, body } = await request(`${target}/users?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      if (statusCode !== 200) {
        await body.dump();
        throw new Error(`listing users answered ${statusCode}`);
      }
      const page = (await body.json()) as { items?: { id: number }[]; users?: { id: number }[]; nextCursor?: string | null };
      const items = page.items ?? page.users ?? [];
      ids.push(...items.map((u) => u.id));
      if (!page.nextCursor || items.length === 0) break;
      cursor = page.nextCursor;
    }
    return ids;
  };
  let ids = await list();
  if (ids.length < MIN_USERS) {
    onProgress(`creating ${MIN_USERS - ids.length} users for the traffic to read`);
    const tag = Date.now().toString(36);
    for (let i = ids.length; i < MIN_USERS; i += 20) {
      await Promise.all(
        Array.from({ length: Math.min(20, MIN_USERS - i) }, async (_, j) => {
          const { body } = await request(`${target}/users`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ name: `Seed ${i + j}`, email: `seed-${tag}-${i + j}@example.com` }),
          });
          await body.dump();
        }),
      );
    }
    ids = await list();
  }
  return ids;
}
