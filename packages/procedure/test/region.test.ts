import { describe, expect, test } from 'vitest';
import { competentRegion } from '../src/index.js';
import { BRUSSELS_COMMUNES, GERMAN_SPEAKING_COMMUNES } from '../src/internal.js';

describe('competent region', () => {
  test('region - the place of employment decides: the communes of PROCEDURE.md', () => {
    expect(competentRegion('commune-21004')).toBe('region-bruxelles'); // Bruxelles
    expect(competentRegion('commune-11002')).toBe('region-vlaanderen'); // Antwerpen
    expect(competentRegion('commune-44021')).toBe('region-vlaanderen'); // Gent
    expect(competentRegion('commune-24062')).toBe('region-vlaanderen'); // Leuven
    expect(competentRegion('commune-62063')).toBe('region-wallonie'); // Liège
    expect(competentRegion('commune-92094')).toBe('region-wallonie'); // Namur
    expect(competentRegion('commune-52011')).toBe('region-wallonie'); // Charleroi
    expect(competentRegion('commune-63023')).toBe('region-dg'); // Eupen
  });

  test('region - the nine German-speaking municipalities go to region-dg, other Liège communes to Wallonia', () => {
    expect(Object.keys(GERMAN_SPEAKING_COMMUNES)).toHaveLength(9);
    for (const nis of Object.keys(GERMAN_SPEAKING_COMMUNES)) expect(competentRegion(nis)).toBe('region-dg');
    expect(competentRegion('63035')).toBe('region-wallonie'); // Herve
  });

  test("region - Brussels-Capital's nineteen communes, Flemish and Walloon Brabant", () => {
    expect(Object.keys(BRUSSELS_COMMUNES)).toHaveLength(19);
    for (const nis of Object.keys(BRUSSELS_COMMUNES)) expect(competentRegion(nis)).toBe('region-bruxelles');
    expect(competentRegion('23088')).toBe('region-vlaanderen'); // Vilvoorde
    expect(competentRegion('25072')).toBe('region-wallonie'); // Ottignies-Louvain-la-Neuve
    expect(competentRegion('71016')).toBe('region-vlaanderen'); // Genk
    expect(competentRegion('85045')).toBe('region-wallonie'); // Virton
  });

  test('region - a code outside the Belgian NIS ranges is ERR_NIS_CODE_INVALID', () => {
    for (const bad of ['commune-21020', '01000', '22001', 'commune-2100', 'Eupen']) {
      expect(() => competentRegion(bad)).toThrow(expect.objectContaining({ code: 'ERR_NIS_CODE_INVALID' }));
    }
  });
});
