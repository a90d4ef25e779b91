/**
 * Reading MOTChallenge files: what is tolerated, and what is refused with the file and line.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findSequences, pairSequences, parseMotText, readMotFile } from '../../lib/formats/mot-file.ts';

describe('parseMotText', () => {
  it('reads 6 to 10 values, with spaces after commas, blank lines, CRLF and whitespace separators', () => {
    const rows = parseMotText(
      [
        '1,1,10,20,30,40',
        '',
        '1, 2, 11.5, 21, 31, 41, 0',
        '  2,3,12,22,32,42,1,7,0.25\r',
        '2 4 13 23 33 43 1 1 1 -1',
        '3,5,14,24,34,44,0.9,-1,-1,-1,',
      ].join('\n'),
      'x.txt',
    );
    expect(rows.count).toBe(5);
    expect(Array.from(rows.frame)).toEqual([1, 1, 2, 2, 3]);
    expect(Array.from(rows.id)).toEqual([1, 2, 3, 4, 5]);
    expect(Array.from(rows.left)).toEqual([10, 11.5, 12, 13, 14]);
    expect(Array.from(rows.height)).toEqual([40, 41, 42, 43, 44]);
    expect(Array.from(rows.conf)).toEqual([1, 0, 1, 1, 0.9]); // no conf column: evaluated
    expect(Array.from(rows.classId)).toEqual([-1, -1, 7, 1, -1]); // no class column: -1
    expect(Array.from(rows.visibility)).toEqual([1, 1, 0.25, 1, -1]); // no visibility column: 1
    expect(Array.from(rows.line)).toEqual([1, 3, 4, 5, 6]);
  });

  it('reads an empty file as no rows', () => {
    expect(parseMotText('', 'empty.txt').count).toBe(0);
    expect(parseMotText('\n\n', 'empty.txt').count).toBe(0);
  });

  it.each([
    ['1,1,10,20,30', /bad\.txt line 2: found 5 values; each line must be frame,id,left,top,width,height/],
    ['1,1,1,1,1,1,1,1,1,1,1', /bad\.txt line 2: found 11 values/],
    ['x,1,10,20,30,40', /bad\.txt line 2: frame "x" is not a whole number/],
    ['1.5,1,10,20,30,40', /bad\.txt line 2: frame "1.5" is not a whole number/],
    ['1,1,10,abc,30,40', /bad\.txt line 2: top "abc" is not a number/],
    ['1,1,10,20,30,40,1,car', /bad\.txt line 2: class "car" is not a whole number/],
    ['-1,1,10,20,30,40', /bad\.txt line 2: frame -1 is negative/],
  ])('refuses %j naming the file and line', (line, message) => {
    expect(() => parseMotText(`1,1,1,1,1,1\n${line}`, 'bad.txt')).toThrow(message);
  });

  it('says which file cannot be read', () => {
    expect(() => readMotFile('/nonexistent/gt.txt')).toThrow(/cannot read \/nonexistent\/gt\.txt/);
  });
});

describe('sequence layouts', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'panoptes-mot-layout-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const put = (relative: string, text = '1,1,0,0,10,10,1,1,1\n'): string => {
    const file = path.join(root, relative);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
    return file;
  };
  put('gt/MOT17-02/gt/gt.txt');
  put('gt/MOT17-04/gt/gt.txt');
  put('gt/extra.txt');
  put('gt/notes/readme.md');
  put('pred/MOT17-02.txt');
  put('pred/other.txt');
  put('campus/TUD-Campus/gt.txt');

  it('finds <seq>/gt/gt.txt folders and <seq>.txt files, and nothing else', () => {
    const found = findSequences(path.join(root, 'gt'), '--gt');
    expect(found.kind).toBe('folder');
    if (found.kind !== 'folder') return;
    expect([...found.files.keys()]).toEqual(['MOT17-02', 'MOT17-04', 'extra']);
  });

  it('names a single file after itself, or after its folder when it is gt.txt', () => {
    expect(findSequences(path.join(root, 'pred/MOT17-02.txt'), '--pred')).toMatchObject({ kind: 'single', name: 'MOT17-02' });
    expect(findSequences(path.join(root, 'gt/MOT17-02/gt/gt.txt'), '--gt')).toMatchObject({ name: 'MOT17-02' });
    expect(findSequences(path.join(root, 'campus/TUD-Campus/gt.txt'), '--gt')).toMatchObject({ name: 'TUD-Campus' });
    expect(findSequences(path.join(root, 'gt/MOT17-04'), '--gt')).toMatchObject({ kind: 'single', name: 'MOT17-04' });
  });

  it('pairs by name; a sequence without prediction gets none; stray predictions are listed', () => {
    const { pairs, unmatchedPredictions } = pairSequences(
      findSequences(path.join(root, 'gt'), '--gt'),
      findSequences(path.join(root, 'pred'), '--pred'),
    );
    expect(pairs.map((p) => [p.name, p.predFile && path.basename(p.predFile)])).toEqual([
      ['MOT17-02', 'MOT17-02.txt'],
      ['MOT17-04', null],
      ['extra', null],
    ]);
    expect(unmatchedPredictions).toEqual(['other']);
  });

  it('explains layouts that cannot be paired', () => {
    expect(() => findSequences(path.join(root, 'missing'), '--gt')).toThrow(/--gt .*missing: no such file or folder/);
    expect(() => findSequences(path.join(root, 'gt/notes'), '--gt')).toThrow(/holds no sequence; put one <seq>\.txt/);
    expect(() =>
      pairSequences(findSequences(path.join(root, 'gt'), '--gt'), findSequences(path.join(root, 'pred/other.txt'), '--pred')),
    ).toThrow(/is one file but --gt .* holds 3 sequences; give --pred a folder/);
    const unrelated = put('unrelated/nothing-alike.txt');
    expect(() =>
      pairSequences(findSequences(path.join(root, 'gt'), '--gt'), findSequences(path.dirname(unrelated), '--pred')),
    ).toThrow(/none of its sequences \(nothing-alike\) has the name of a ground-truth sequence/);
  });
});

describe('MOT15 and MOT16 layouts', () => {
  const mot15 = ['1,1,10,20,30,40,1,-4.4852,-0.58565,0', '1,2,11,21,31,41,1,3,5,-1', '2,1,12,22,32,42,0,-1,-1,-1'].join('\n');

  it('reads columns 8 to 10 of MOT15 as world coordinates: every row a pedestrian', () => {
    const rows = parseMotText(mot15, 'mot15.txt', 'mot15');
    expect(rows.layout).toBe('mot15');
    expect(Array.from(rows.classId)).toEqual([-1, -1, -1]);
    expect(Array.from(rows.conf)).toEqual([1, 1, 0]); // conf still marks rows to ignore
    expect(Array.from(rows.visibility)).toEqual([1, 1, 1]); // world coordinates are no visibility
  });

  it('recognizes MOT15 under auto by values MOT16 cannot have', () => {
    expect(parseMotText(mot15, 'mot15.txt', 'auto').layout).toBe('mot15');
    // Each of the three tells on its own.
    expect(parseMotText('1,1,1,1,1,1,1,2.5,0.5,-1', 'x', 'auto').layout).toBe('mot15');
    expect(parseMotText('1,1,1,1,1,1,1,3,5,-1', 'x', 'auto').layout).toBe('mot15');
    expect(parseMotText('1,1,1,1,1,1,1,3,0.5,0', 'x', 'auto').layout).toBe('mot15');
    expect(Array.from(parseMotText('1,1,1,1,1,1,1,3,5,-1', 'x', 'auto').classId)).toEqual([-1]);
  });

  it('reads MOT16 under auto when every row can be MOT16, classes included', () => {
    const rows = parseMotText(['1,1,1,1,1,1,1,7,0.25', '1,2,1,1,1,1,1,1,1,-1', '2,1,1,1,1,1,1,-1,-1,-1', '2,2,1,1,1,1'].join('\n'), 'x', 'auto');
    expect(rows.layout).toBe('mot16');
    expect(Array.from(rows.classId)).toEqual([7, 1, -1, -1]);
    expect(Array.from(rows.visibility)).toEqual([0.25, 1, -1, 1]);
  });

  it('refuses what neither layout reads, with the line', () => {
    expect(() => parseMotText('1,1,1,1,1,1,1,4.4852', 'x.txt', 'auto')).toThrow(/x\.txt line 1: class "4\.4852" is not a whole number \(if columns 8 to 10 are MOT15 world coordinates/);
    expect(() => parseMotText('1,1,1,1,1,1,1,1,1,abc', 'x.txt', 'mot15')).toThrow(/x\.txt line 1: column 10 "abc" is not a number/);
    // The default stays MOT16: a world coordinate is not a class.
    expect(() => parseMotText(mot15, 'mot15.txt')).toThrow(/line 1: class "-4\.4852" is not a whole number/);
  });
});
