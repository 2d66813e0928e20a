#!/usr/bin/env node
// Oracle for tests/text/tokenizer_oracle_test.cpp and bench/tokenizer_vs_js.sh: encodes every record
// of a corpus with @lenml/tokenizers (JavaScript port of Hugging Face tokenizers) and writes one
// JSON line per record: [ids without special tokens, ids with special tokens (every Kth record,
// else null), decode(ids without special tokens), decode(same ids, skip_special_tokens)].
//
// usage: node encode.js <dir holding node_modules> <tokenizer dir> <corpus> <out.jsonl>
//                       [--encode-only | --special-every=K (default 1)]
//
// Corpus format (binary safe, so invalid UTF-8 reaches the decoder): records "<byte length>\n<bytes>\n".
// Bytes are decoded as UTF-8 with U+FFFD for ill-formed sequences (WHATWG, maximal subparts); a
// leading BOM is kept as text (it is part of the data, not an encoding mark).
// With --encode-only only the first field is computed and the elapsed encode time (ms) of the
// whole corpus is printed to stderr as "encode_ms <wall> cpu_ms <process cpu> tokens <n>" (used by
// bench/tokenizer_vs_js.sh).
"use strict";
const fs = require("fs");
const path = require("path");

const [modulesDir, tokDir, corpusPath, outPath, flag] = process.argv.slice(2);
const specialEvery = flag && flag.startsWith("--special-every=") ? parseInt(flag.slice(16), 10) : 1;
if (!outPath) {
  console.error("usage: node encode.js <modules dir> <tokenizer dir> <corpus> <out.jsonl> [--encode-only]");
  process.exit(2);
}
const { TokenizerLoader } = require(path.resolve(modulesDir, "node_modules", "@lenml", "tokenizers"));
const readJson = (f) => JSON.parse(fs.readFileSync(path.join(tokDir, f), "utf8"));
const configPath = path.join(tokDir, "tokenizer_config.json");
const tokenizer = TokenizerLoader.fromPreTrained({
  tokenizerJSON: readJson("tokenizer.json"),
  tokenizerConfig: fs.existsSync(configPath) ? readJson("tokenizer_config.json") : {},
});

const buf = fs.readFileSync(corpusPath);
const texts = [];
let pos = 0;
while (pos < buf.length) {
  const nl = buf.indexOf(10, pos);
  if (nl < 0) throw new Error(`corpus: missing length line at byte ${pos}`);
  const len = parseInt(buf.toString("latin1", pos, nl), 10);
  const start = nl + 1;
  if (!(len >= 0) || start + len + 1 > buf.length || buf[start + len] !== 10) {
    throw new Error(`corpus: bad record at byte ${pos}`);
  }
  texts.push(new TextDecoder("utf-8", { ignoreBOM: true }).decode(buf.subarray(start, start + len)));
  pos = start + len + 1;
}

const out = [];
if (flag === "--encode-only") {
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  const all = texts.map((t) => tokenizer.encode(t, { add_special_tokens: false }));
  const cpu = process.cpuUsage(c0);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  let n = 0;
  for (const ids of all) n += ids.length;
  console.error(`encode_ms ${ms.toFixed(1)} cpu_ms ${((cpu.user + cpu.system) / 1e3).toFixed(1)} tokens ${n}`);
  for (const ids of all) out.push(JSON.stringify([ids]));
} else {
  texts.forEach((t, i) => {
    const plain = tokenizer.encode(t, { add_special_tokens: false });
    const special = i % specialEvery === 0 ? tokenizer.encode(t, { add_special_tokens: true }) : null;
    const dec = tokenizer.decode(plain, { skip_special_tokens: false });
    const decSkip = tokenizer.decode(plain, { skip_special_tokens: true });
    out.push(JSON.stringify([plain, special, dec, decSkip]));
  });
}
fs.writeFileSync(outPath, out.join("\n") + (out.length ? "\n" : ""));
