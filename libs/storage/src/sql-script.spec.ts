import { splitSqlStatements } from './sql-script';

describe('splitSqlStatements', () => {
  it('splits on semicolons and trims each statement', () => {
    expect(splitSqlStatements('CREATE TABLE a (x UInt8) ENGINE = Memory;\n\n  SELECT 1 ;')).toEqual([
      'CREATE TABLE a (x UInt8) ENGINE = Memory',
      'SELECT 1',
    ]);
  });

  it('keeps a last statement without a semicolon', () => {
    expect(splitSqlStatements('SELECT 1; SELECT 2')).toEqual(['SELECT 1', 'SELECT 2']);
  });

  it('does not split inside strings, quoted identifiers or comments', () => {
    const script = [
      "SELECT ';', 'it''s; fine', 'back\\';slash';",
      'SELECT "a;b", `c;d`;',
      'SELECT 1 -- a comment; not a split',
      '+ 1 /* nor; this */;',
    ].join('\n');
    expect(splitSqlStatements(script)).toEqual([
      "SELECT ';', 'it''s; fine', 'back\\';slash'",
      'SELECT "a;b", `c;d`',
      'SELECT 1 -- a comment; not a split\n+ 1 /* nor; this */',
    ]);
  });

  it('drops statements holding only comments and blanks', () => {
    expect(splitSqlStatements('-- header\n;\n/* nothing */;\n  ;SELECT 1;\n-- trailer\n')).toEqual([
      'SELECT 1',
    ]);
    expect(splitSqlStatements('')).toEqual([]);
  });

  it('keeps a comment that precedes a statement with it', () => {
    expect(splitSqlStatements('-- why\nSELECT 1;')).toEqual(['-- why\nSELECT 1']);
  });
});
