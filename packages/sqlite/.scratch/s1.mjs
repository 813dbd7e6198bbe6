import Database from 'better-sqlite3';
import { rmSync, mkdirSync, readdirSync, statSync, openSync, closeSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
const dir = '/tmp/sq-exp'; rmSync(dir, {recursive:true, force:true}); mkdirSync(dir);
const h = (p) => createHash('sha256').update(readFileSync(p)).digest('hex').slice(0, 12);
const ls = () => readdirSync(dir).map(f => `${f}:${(statSync(dir+'/'+f).mode & 0o777).toString(8)}:${statSync(dir+'/'+f).size}`).join(' ');
// unrelated db in rollback mode
const u = new Database(dir + '/app.db'); u.exec('CREATE TABLE mine (a)'); u.close();
const before = h(dir + '/app.db'); console.log('before', ls());
const db = new Database(dir + '/app.db', { fileMustExist: true, timeout: 0 });
db.pragma('locking_mode = EXCLUSIVE'); db.exec('BEGIN EXCLUSIVE; COMMIT');
console.log('after lock', ls());
console.log(db.prepare("SELECT type, name FROM sqlite_schema").all());
db.close();
console.log('after close', ls(), h(dir + '/app.db') === before);
// pre-created 0600 file
closeSync(openSync(dir + '/k.db', 'wx', 0o600));
const k = new Database(dir + '/k.db', { fileMustExist: true });
k.pragma('journal_mode = WAL'); k.exec('CREATE TABLE t (key BLOB PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID');
k.exec('CREATE TABLE r (key BLOB PRIMARY KEY, value BLOB NOT NULL)');
k.exec('CREATE TABLE n (key BLOB, value BLOB)');
k.exec('CREATE VIEW v AS SELECT * FROM t');
console.log('wal', ls());
console.log(k.pragma('table_list'));
for (const t of ['t','r','n','v']) console.log(t, k.pragma(`table_xinfo(${t})`), k.pragma(`index_list(${t})`));
k.exec('CREATE UNIQUE INDEX tv ON t(value)');
console.log('t idx', k.pragma('index_list(t)'));
k.close();
// garbage file
import { writeFileSync } from 'node:fs';
writeFileSync(dir + '/junk', 'hello world this is not sqlite at all, long enough to have a header maybe.....................................');
try { const j = new Database(dir + '/junk', { fileMustExist: true }); console.log('junk opened'); j.prepare('SELECT 1 FROM sqlite_schema').all(); } catch (e) { console.log('junk', e.code, e.message); }
