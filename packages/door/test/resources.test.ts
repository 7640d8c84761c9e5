import { randomBytes } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { useNatsServer } from '@passerelle/testing/vitest';
import { describe, expect, test } from 'vitest';
import { Door, provisionDoor } from '../src/index.js';
import { doorResources } from '../src/internal.js';

describe('door resources', () => {
  const nats = useNatsServer();

  test('resources - provisioned by an operator, a door opens them without creating any, and they are the ones listed', async () => {
    const nc = await connect({ servers: nats.url });
    try {
      const jsm = await jetstreamManager(nc);
      const name = 'provisioned-door';
      const open = () =>
        Door.open({
          name,
          nc,
          secret: randomBytes(32),
          publicUrl: 'https://door.example.be',
          service: 'be.passerelle.demo.v1',
          api: { title: 'Provisioned', version: '1.0.0' },
          create: false,
        });
      const streams = async (): Promise<string[]> => {
        const names: string[] = [];
        for await (const info of jsm.streams.list()) names.push(info.config.name);
        return names.sort();
      };
      // a door that may not create makes nothing of its own
      await (await open()).close();
      expect(await streams()).toEqual([]);
      await provisionDoor(nc, { name });
      const listed = doorResources(name);
      expect(await streams()).toEqual(
        [...listed.buckets.map((b) => `KV_${b}`), ...listed.streams.map((s) => s.name)].sort(),
      );
      for (const stream of listed.streams) {
        expect((await jsm.streams.info(stream.name)).config.subjects).toEqual(stream.subjects);
      }
      const door = await open();
      const logged = await door.append({
        resourceType: 'dossiers',
        happened: 'opened',
        subject: 'dossier-1',
      });
      expect(logged.event.subjectseq).toBe(1);
      await door.close();
    } finally {
      await nc.close();
    }
  });
});
