// Third-party client check: the official `openai` npm package calls a usermirror server.
// usage: node client.js <dir with node_modules/openai> <base url .../v1> <api key> <model>
// Prints one JSON object with what the library parsed; the C++ test compares it with the backend.
'use strict';
const path = require('path');
const OpenAI = require(path.join(process.argv[2], 'node_modules', 'openai'));

async function main() {
  const [, , , baseURL, apiKey, model] = process.argv;
  const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 20000 });
  const out = {};
  const messages = [
    { role: 'system', content: 'You simulate a user.' },
    { role: 'user', content: 'Pick one: [A] x [B] y' },
  ];

  const models = await client.models.list();
  out.models = models.data.map((m) => m.id);

  const chat = await client.chat.completions.create({
    model, messages, n: 2, temperature: 1.0, top_p: 0.9, max_tokens: 6, seed: 11, stop: ['Behavior: ['],
    logprobs: true, top_logprobs: 3,
  });
  out.chat = {
    texts: chat.choices.map((c) => c.message.content),
    finish: chat.choices.map((c) => c.finish_reason),
    first_token: chat.choices[0].logprobs.content[0].token,
    first_top: chat.choices[0].logprobs.content[0].top_logprobs.map((t) => [t.token, t.logprob]),
    usage: chat.usage,
  };

  const stream = await client.chat.completions.create({
    model, messages, n: 2, max_tokens: 6, seed: 11, stop: ['Behavior: ['], stream: true,
  });
  const streamed = ['', ''];
  const streamFinish = [null, null];
  let chunks = 0;
  for await (const chunk of stream) {
    for (const c of chunk.choices) {
      chunks += 1;
      if (c.delta && c.delta.content) streamed[c.index] += c.delta.content;
      if (c.finish_reason) streamFinish[c.index] = c.finish_reason;
    }
  }
  out.stream = { texts: streamed, finish: streamFinish, chunks };

  // Streaming with per-token logprobs and the final usage chunk.
  const lpStream = await client.chat.completions.create({
    model, messages, n: 2, max_tokens: 6, seed: 11, stop: ['Behavior: ['], stream: true,
    logprobs: true, top_logprobs: 3, stream_options: { include_usage: true },
  });
  const lpTexts = ['', ''];
  const lpTokens = [[], []];
  let lpUsage = null;
  for await (const chunk of lpStream) {
    if (chunk.usage) lpUsage = chunk.usage;
    for (const c of chunk.choices) {
      if (c.delta && c.delta.content) lpTexts[c.index] += c.delta.content;
      if (c.logprobs && c.logprobs.content) {
        for (const t of c.logprobs.content) lpTokens[c.index].push([t.token, t.logprob, t.top_logprobs.length]);
      }
    }
  }
  out.stream_logprobs = { texts: lpTexts, tokens: lpTokens, usage: lpUsage };

  // Completions stream (legacy text_completion chunks) with usage.
  const compStream = await client.completions.create({
    model, prompt: [101, 102, 103], max_tokens: 3, seed: 5, stream: true, stream_options: { include_usage: true },
  });
  let compText = '';
  let compFinish = null;
  let compUsage = null;
  for await (const chunk of compStream) {
    if (chunk.usage) compUsage = chunk.usage;
    for (const c of chunk.choices) {
      compText += c.text;
      if (c.finish_reason) compFinish = c.finish_reason;
    }
  }
  out.completion_stream = { text: compText, finish: compFinish, usage: compUsage };

  const comp = await client.completions.create({ model, prompt: 'rendered prompt\nBehavior: [', max_tokens: 1, logprobs: 5 });
  out.completion = {
    text: comp.choices[0].text,
    top: comp.choices[0].logprobs.top_logprobs[0],
  };
  const ids = await client.completions.create({ model, prompt: [101, 102, 103], max_tokens: 3, seed: 5 });
  out.token_prompt = { text: ids.choices[0].text };

  try {
    await client.chat.completions.create({ model: 'no-such-model', messages });
    out.unknown_model = { status: 0 };
  } catch (e) {
    out.unknown_model = { status: e.status, message: e.message, code: e.code };
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + '\n');
  process.exit(1);
});
