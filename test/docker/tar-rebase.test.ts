/**
 * The tar reader and writer behind the read replica's archive copy (no engine needed): archives
 * made by GNU tar in each of its formats go through rebaseTar and are read back by GNU tar.
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { inBaseBackup } from '../../electron/control/runtimes/docker/replica-seed.js';
import { rebaseTar, tarOfFiles, TarFormatError, type TarEntry } from '../../electron/control/runtimes/docker/tar-rebase.js';

const dir = mkdtempSync(path.join(tmpdir(), 'scalelab-tar-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A data folder like PostgreSQL's, with what a base backup leaves out. */
function dataFolder(): string {
  const root = path.join(dir, 'src', 'data');
  const file = (rel: string, content = rel) => {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), content);
  };
  file('PG_VERSION', '15\n');
  file('base/1/112', Buffer.alloc(70_000, 7).toString());
  file('base/1/pg_internal.init');
  file('base/pgsql_tmp/pgsql_tmp123.0');
  file('pg_wal/000000010000000000000001', 'wal');
  mkdirSync(path.join(root, 'pg_wal/archive_status'), { recursive: true });
  file('pg_replslot/scalelab_replica/state');
  file('postmaster.pid', '1\n');
  file('postgresql.auto.conf', '# auto\n');
  // Longer than ustar's 100-byte name field: PAX or GNU long-name records carry it.
  file(`base/1/${'n'.repeat(60)}/${'m'.repeat(50)}`, 'long');
  linkSync(path.join(root, 'base/1/112'), path.join(root, 'base/1/112.hardlink'));
  return path.dirname(root);
}

function listing(root: string): string[] {
  const run = spawnSync('find', ['.', '-mindepth', '1'], { cwd: root, encoding: 'utf8' });
  return run.stdout.trim().split('\n').sort();
}

describe('rebaseTar', () => {
  const source = dataFolder();

  it.each(['pax', 'gnu', 'ustar'])(
    'moves a %s archive under another top folder, leaving out what a base backup leaves out',
    async (format) => {
      const tarball = path.join(dir, `in-${format}.tar`);
      // ustar cannot hold the long name: that archive is made without it.
      const exclude = format === 'ustar' ? ['--exclude', 'n*'] : [];
      expect(spawnSync('tar', ['-c', `--format=${format}`, ...exclude, '-f', tarball, '-C', source, 'data']).status).toBe(0);
      const seen: TarEntry[] = [];
      const out = rebaseTar(createReadStream(tarball), { to: 'pgdata', keep: inBaseBackup, onEntry: (e) => seen.push(e) });
      const chunks: Buffer[] = [];
      for await (const chunk of out) chunks.push(chunk as Buffer);
      const target = path.join(dir, `out-${format}`);
      mkdirSync(target);
      const extract = spawnSync('tar', ['-x', '-C', target], { input: Buffer.concat(chunks) });
      expect(extract.status, extract.stderr.toString()).toBe(0);
      const files = listing(target);
      expect(files).toEqual(
        expect.arrayContaining([
          './pgdata',
          './pgdata/PG_VERSION',
          './pgdata/base/1/112',
          './pgdata/base/1/112.hardlink',
          './pgdata/pg_wal',
          './pgdata/pg_wal/archive_status',
          './pgdata/pg_replslot',
          './pgdata/postgresql.auto.conf',
        ]),
      );
      for (const gone of [
        'pg_wal/000000010000000000000001',
        'pg_replslot/scalelab_replica',
        'postmaster.pid',
        'base/1/pg_internal.init',
        'base/pgsql_tmp',
      ])
        expect(files).not.toContain(`./pgdata/${gone}`);
      expect(readFileSync(path.join(target, 'pgdata/base/1/112'), 'utf8')).toHaveLength(70_000);
      if (format !== 'ustar') expect(readFileSync(path.join(target, 'pgdata/base/1', 'n'.repeat(60), 'm'.repeat(50)), 'utf8')).toBe('long');
      expect(seen.find((e) => e.path === 'PG_VERSION')).toMatchObject({ type: 'file', size: 3, uid: process.getuid!() });
    },
  );

  it('refuses an archive that ends early, so a copy cut short is never used', async () => {
    const tarball = path.join(dir, 'whole.tar');
    spawnSync('tar', ['-c', '-f', tarball, '-C', source, 'data']);
    const cut = readFileSync(tarball).subarray(0, 512 * 40);
    const out = rebaseTar(Readable.from([cut]), { to: 'pgdata' });
    await expect(async () => {
      for await (const chunk of out) void chunk;
    }).rejects.toThrow(TarFormatError);
  });

  it('tarOfFiles writes small files GNU tar reads with their mode and content', () => {
    const archive = tarOfFiles([
      { name: 'pgdata/backup_label', content: 'START WAL LOCATION: 0/2000028\n', mode: 0o600, uid: 101, gid: 103 },
    ]);
    const list = spawnSync('tar', ['-tv', '--numeric-owner'], { input: archive, encoding: 'utf8' });
    expect(list.status, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^-rw------- 101\/103 +30 .* pgdata\/backup_label$/m);
  });
});
