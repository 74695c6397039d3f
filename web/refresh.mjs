// refresh.mjs regenerates the playground's third-party files, web/playground/vendor/, and their
// licences, web/playground/LICENSES.txt, from the npm packages pinned in web/package-lock.json.
// The Go build embeds what this writes (web/web.go) and needs no npm: run it only to change a
// version, through web/refresh.sh, which installs the packages from the lockfile first.
//
//   node refresh.mjs [NODE_MODULES]    (default: web/node_modules)
//
// What it writes, and nothing else (index.html, playground.js and playground.css are taskql's):
//   vendor/react.production.min.js, vendor/react-dom.production.min.js   React 18's UMD builds, unchanged
//   vendor/graphiql.min.js                                                GraphiQL 3's UMD bundle, unchanged
//   vendor/graphiql.min.css      GraphiQL's stylesheet, its inline (data:) fonts and images moved to
//                                vendor/fonts/ and vendor/images/ so that the page's CSP needs no data:
//   LICENSES.txt                 the licence of every package (and font) those files hold
//
// It fails, changing nothing, when an installed version is not the pinned one, when GraphiQL's
// bundle holds a package that is not installed (its licence text would be missing: add the package
// to devDependencies), or when the stylesheet refers to anything but inline fonts and images.

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

const here = path.dirname(fileURLToPath(import.meta.url));
const modules = path.resolve(process.argv[2] ?? path.join(here, 'node_modules'));
const target = path.join(here, 'playground');

function fail(msg) {
  console.error(`refresh: ${msg}`);
  process.exit(1);
}

// installed indexes every package under node_modules, nested ones included: name → [{version, dir}].
const installed = new Map();
(function walk(dir) {
  if (!fs.existsSync(dir)) return;
  for (const entry of fs.readdirSync(dir).sort()) {
    if (entry.startsWith('.')) continue;
    const p = path.join(dir, entry);
    if (entry.startsWith('@')) {
      walk(p);
      continue;
    }
    const manifest = path.join(p, 'package.json');
    if (!fs.existsSync(manifest)) continue;
    const pkg = JSON.parse(fs.readFileSync(manifest, 'utf8'));
    if (!installed.has(pkg.name)) installed.set(pkg.name, []);
    if (!installed.get(pkg.name).some((i) => i.version === pkg.version)) installed.get(pkg.name).push({ version: pkg.version, dir: p, pkg });
    walk(path.join(p, 'node_modules'));
  }
})(modules);
if (installed.size === 0) fail(`no packages in ${modules}: run web/refresh.sh (it runs npm ci first)`);

// The pinned packages must be the installed ones.
const pins = JSON.parse(fs.readFileSync(path.join(here, 'package.json'), 'utf8'));
for (const [name, version] of Object.entries({ ...pins.dependencies, ...pins.devDependencies })) {
  const top = JSON.parse(fs.readFileSync(path.join(modules, name, 'package.json'), 'utf8'));
  if (top.version !== version) fail(`${name} is ${top.version} in ${modules}, package.json pins ${version}: run npm ci`);
}
const top = (name) => ({ dir: path.join(modules, name), version: JSON.parse(fs.readFileSync(path.join(modules, name, 'package.json'), 'utf8')).version });

// The files the page loads, copied unchanged (the stylesheet is rewritten below).
const react = top('react');
const reactDOM = top('react-dom');
const graphiql = top('graphiql');
const copies = [
  { to: 'react.production.min.js', from: react, file: 'umd/react.production.min.js' },
  { to: 'react-dom.production.min.js', from: reactDOM, file: 'umd/react-dom.production.min.js' },
  { to: 'graphiql.min.js', from: graphiql, file: 'graphiql.min.js' },
];

// Which packages GraphiQL's bundle holds: its source map names the file of every module in it.
const sourceMap = JSON.parse(fs.readFileSync(path.join(graphiql.dir, 'graphiql.min.js.map'), 'utf8'));
const monorepo = { // GraphiQL's own packages, bundled from its repository's sources
  '../../graphiql-react/': '@graphiql/react',
  '../../graphiql-toolkit/': '@graphiql/toolkit',
  '../../codemirror-graphql/': 'codemirror-graphql',
  '../../graphql-language-service/': 'graphql-language-service',
  '../src/': 'graphiql',
};
const bundled = new Set();
for (const source of sourceMap.sources) {
  const i = source.lastIndexOf('node_modules/');
  if (i >= 0) {
    const parts = source.slice(i + 'node_modules/'.length).split('/');
    bundled.add(parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]);
    continue;
  }
  const prefix = Object.keys(monorepo).find((p) => source.startsWith(p));
  if (!prefix) fail(`GraphiQL's source map names ${source}, of no known package`);
  bundled.add(monorepo[prefix]);
}
bundled.add('@graphiql/react'); // the stylesheet: @graphiql/react's, with CodeMirror's
bundled.add('codemirror');

// The stylesheet, its inline files moved out, named by their content.
const extensions = { 'font/woff2': 'woff2', 'font/woff': 'woff', 'image/png': 'png', 'image/svg+xml': 'svg', 'image/gif': 'gif' };
const moved = new Map(); // relative path → bytes
let css = fs.readFileSync(path.join(graphiql.dir, 'graphiql.min.css'), 'utf8');
css = css.replace(/url\(\s*(['"]?)data:([\w.+/-]+);base64,([A-Za-z0-9+/=]+)\1\s*\)/g, (_, _q, mime, data) => {
  const ext = extensions[mime];
  if (!ext) fail(`the stylesheet holds an inline ${mime}, which refresh.mjs does not know`);
  const bytes = Buffer.from(data, 'base64');
  const dir = mime.startsWith('font/') ? 'fonts' : 'images';
  const name = `${dir}/${crypto.createHash('sha256').update(bytes).digest('hex').slice(0, 16)}.${ext}`;
  moved.set(name, bytes);
  return `url(${name})`;
});
for (const m of css.matchAll(/url\(\s*['"]?([^'")]*)/g)) {
  if (!moved.has(m[1])) fail(`the stylesheet refers to ${m[1]}: only its inline files can be served`);
}
if (/@import/.test(css)) fail('the stylesheet imports another: it cannot be served offline');

// The fonts' licences are in their name tables (copyright, licence URL).
const fonts = new Map(); // family + copyright → {family, version, copyright, spdx, files}
for (const [name, bytes] of moved) {
  if (!name.startsWith('fonts/')) continue;
  const n = fontNames(bytes);
  const family = (n[16] ?? n[1]).replace(/ (Light|Medium|Bold|Regular)$/, '');
  const spdx = fontLicence(n[14] ?? '', n[13] ?? '');
  if (!spdx) fail(`font ${name} (${family}) has the licence ${JSON.stringify(n[13] ?? n[14])}, which refresh.mjs does not know`);
  const key = `${family}\n${n[0]}`;
  if (!fonts.has(key)) fonts.set(key, { family, version: (n[5] ?? '').replace(/^Version /, '').replace(/;.*/, ''), copyright: n[0], spdx, files: 0 });
  fonts.get(key).files++;
}

// Every package in the files, with its licence.
const missing = [...bundled].filter((name) => !installed.has(name)).sort();
if (missing.length > 0) fail(`GraphiQL's bundle holds ${missing.join(', ')}, not installed: add them to devDependencies in web/package.json for their licences`);
const packages = new Map([...bundled, 'react', 'react-dom', 'scheduler'].sort().map((name) => [name, installed.get(name)]));

// Write: vendor/ anew, then LICENSES.txt.
const vendor = path.join(target, 'vendor');
fs.rmSync(vendor, { recursive: true, force: true });
fs.mkdirSync(path.join(vendor, 'fonts'), { recursive: true });
fs.mkdirSync(path.join(vendor, 'images'), { recursive: true });
for (const c of copies) fs.copyFileSync(path.join(c.from.dir, c.file), path.join(vendor, c.to));
fs.writeFileSync(path.join(vendor, 'graphiql.min.css'), css);
for (const [name, bytes] of moved) fs.writeFileSync(path.join(vendor, name), bytes);
for (const d of ['fonts', 'images']) if (fs.readdirSync(path.join(vendor, d)).length === 0) fs.rmdirSync(path.join(vendor, d));

fs.writeFileSync(path.join(target, 'LICENSES.txt'), licences());

const size = (f) => fs.statSync(path.join(vendor, f)).size;
for (const f of ['react.production.min.js', 'react-dom.production.min.js', 'graphiql.min.js', 'graphiql.min.css']) console.log(`vendor/${f}\t${size(f)} bytes`);
console.log(`vendor/fonts, vendor/images\t${moved.size} files, ${[...moved.values()].reduce((a, b) => a + b.length, 0)} bytes`);
console.log(`LICENSES.txt\t${packages.size} packages, ${fonts.size} fonts`);

function licences() {
  const lines = [];
  const say = (s = '') => lines.push(s);
  say("Third-party software in taskql's playground (web/playground/vendor/)");
  say('');
  say('Generated by web/refresh.mjs from the npm packages pinned in web/package.json and');
  say('web/package-lock.json; do not edit.');
  say('');
  say(`  vendor/react.production.min.js        react@${react.version} umd/react.production.min.js, unchanged`);
  say(`  vendor/react-dom.production.min.js    react-dom@${reactDOM.version} umd/react-dom.production.min.js, unchanged (it holds scheduler)`);
  say(`  vendor/graphiql.min.js                graphiql@${graphiql.version} graphiql.min.js, unchanged: the GraphiQL project's bundle`);
  say(`                                        of the packages below (its source map names them)`);
  say(`  vendor/graphiql.min.css               graphiql@${graphiql.version} graphiql.min.css, its ${moved.size} inline fonts and images`);
  say('                                        moved to vendor/fonts/ and vendor/images/ (named by content)');
  say('');
  say("The versions are those npm installs from the lockfile; GraphiQL's bundle was built by its authors");
  say('from the same packages, possibly at other patch versions, under the same licences.');
  say('');
  say('Packages:');
  for (const [name, found] of packages) for (const f of found) say(`  ${name}@${f.version}  ${licenceID(f.pkg)}`);
  say('');
  say('Fonts (vendor/fonts/, from graphiql.min.css; each font file names its copyright and licence):');
  for (const f of fonts.values()) say(`  ${f.family} ${f.version}, ${f.files} files  ${f.spdx}  ${f.copyright}`);
  for (const [name, found] of packages) {
    for (const f of found) {
      say('');
      say('='.repeat(100));
      say(`${name}@${f.version}  (${licenceID(f.pkg)})`);
      say('='.repeat(100));
      say('');
      say(licenceText(f));
    }
  }
  const spdxDone = new Set();
  for (const f of fonts.values()) {
    say('');
    say('='.repeat(100));
    say(`Font ${f.family} ${f.version}  (${f.spdx})`);
    say('='.repeat(100));
    say('');
    say(f.copyright);
    say('');
    if (spdxDone.has(f.spdx)) {
      say(`Licensed under the ${f.spdx} licence, whose text is above.`);
      continue;
    }
    spdxDone.add(f.spdx);
    say(spdxText(f.spdx));
  }
  return lines.join('\n').replace(/[ \t]+$/gm, '') + '\n';
}

function licenceID(pkg) {
  if (typeof pkg.license === 'string') return pkg.license;
  if (pkg.license?.type) return pkg.license.type;
  if (Array.isArray(pkg.licenses)) return pkg.licenses.map((l) => l.type ?? l).join(' OR ');
  return 'UNKNOWN';
}

// licenceText is the package's licence file; a package that ships none gets SPDX's text of the
// licence its package.json names, under its author's name.
function licenceText(f) {
  const files = fs.readdirSync(f.dir).filter((e) => /^(licen[cs]e|copying)([.-].*)?$/i.test(e)).sort();
  if (files.length > 0) {
    return files.map((e) => fs.readFileSync(path.join(f.dir, e), 'utf8').replace(/\r\n?/g, '\n').trim()).join('\n\n');
  }
  const id = licenceID(f.pkg);
  const author = typeof f.pkg.author === 'string' ? f.pkg.author : f.pkg.author?.name;
  return `(The package ships no licence file: its package.json names the licence ${id}${author ? ` and the author ${author}` : ''}; SPDX's text of ${id} follows.)\n\n${spdxText(id)}`;
}

function spdxText(id) {
  const file = path.join(modules, 'spdx-license-list', 'licenses', `${id}.json`);
  if (!fs.existsSync(file)) fail(`no SPDX text for the licence ${id}`);
  return JSON.parse(fs.readFileSync(file, 'utf8')).licenseText.replace(/\r\n?/g, '\n').trim();
}

function fontLicence(url, description) {
  if (/apache\.org\/licenses\/LICENSE-2\.0/.test(url) || /Apache License, Version 2\.0/.test(description)) return 'Apache-2.0';
  if (/scripts\.sil\.org\/OFL|openfontlicense\.org/.test(url) || /SIL Open Font License, Version 1\.1/.test(description)) return 'OFL-1.1';
  return '';
}

// fontNames reads the name table of a WOFF or WOFF2 font: name id → string.
function fontNames(buf) {
  const table = nameTable(buf);
  const count = table.readUInt16BE(2);
  const strings = table.readUInt16BE(4);
  const names = {};
  for (let i = 0; i < count; i++) {
    const o = 6 + i * 12;
    const platform = table.readUInt16BE(o);
    const id = table.readUInt16BE(o + 6);
    const len = table.readUInt16BE(o + 8);
    const at = strings + table.readUInt16BE(o + 10);
    const raw = table.subarray(at, at + len);
    let s;
    if (platform === 0 || platform === 3) s = Buffer.from(raw.subarray(0, len & ~1)).swap16().toString('utf16le');
    else if (platform === 1) s = raw.toString('latin1');
    else continue;
    if (!(id in names) || platform === 3) names[id] = s;
  }
  return names;
}

function nameTable(buf) {
  const signature = buf.readUInt32BE(0);
  if (signature === 0x774f4646) { // wOFF: a directory of zlib-compressed tables
    const count = buf.readUInt16BE(12);
    for (let i = 0; i < count; i++) {
      const o = 44 + i * 20;
      if (buf.toString('latin1', o, o + 4) !== 'name') continue;
      const offset = buf.readUInt32BE(o + 4);
      const compressed = buf.readUInt32BE(o + 8);
      const original = buf.readUInt32BE(o + 12);
      const raw = buf.subarray(offset, offset + compressed);
      return compressed === original ? raw : zlib.inflateSync(raw);
    }
  } else if (signature === 0x774f4632) { // wOF2: a directory, then one Brotli stream of every table
    const known = ['cmap', 'head', 'hhea', 'hmtx', 'maxp', 'name', 'OS/2', 'post', 'cvt ', 'fpgm', 'glyf', 'loca', 'prep', 'CFF ', 'VORG', 'EBDT', 'EBLC', 'gasp', 'hdmx', 'kern', 'LTSH', 'PCLT', 'VDMX', 'vhea', 'vmtx', 'BASE', 'GDEF', 'GPOS', 'GSUB', 'EBSC', 'JSTF', 'MATH', 'CBDT', 'CBLC', 'COLR', 'CPAL', 'SVG ', 'sbix', 'acnt', 'avar', 'bdat', 'bloc', 'bsln', 'cvar', 'fdsc', 'feat', 'fmtx', 'fvar', 'gvar', 'hsty', 'just', 'lcar', 'mort', 'morx', 'opbd', 'prop', 'trak', 'Zapf', 'Silf', 'Glat', 'Gloc', 'Feat', 'Sill'];
    const count = buf.readUInt16BE(12);
    const compressedSize = buf.readUInt32BE(20);
    let p = 48;
    const base128 = () => {
      let v = 0;
      for (let i = 0; i < 5; i++) {
        const b = buf[p++];
        v = v * 128 + (b & 0x7f);
        if (!(b & 0x80)) return v;
      }
      throw new Error('bad UIntBase128');
    };
    let offset = 0;
    let name;
    for (let i = 0; i < count; i++) {
      const flags = buf[p++];
      let tag = known[flags & 0x3f];
      if ((flags & 0x3f) === 0x3f) {
        tag = buf.toString('latin1', p, p + 4);
        p += 4;
      }
      const transform = (flags >> 6) & 3;
      let length = base128();
      const transformed = tag === 'glyf' || tag === 'loca' ? transform !== 3 : transform !== 0;
      if (transformed) length = base128();
      if (tag === 'name') name = { offset, length };
      offset += length;
    }
    if (name) {
      const tables = zlib.brotliDecompressSync(buf.subarray(p, p + compressedSize));
      return tables.subarray(name.offset, name.offset + name.length);
    }
  }
  throw new Error('a font without a name table, or not WOFF/WOFF2');
}
