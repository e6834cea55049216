// Open MCAP files the way Lichtblick does and report what its user would see.
//
// Built by run.sh against a Lichtblick checkout: `@lichtblick/mcap-support` (parseChannel,
// loadDecompressHandlers) and `@lichtblick/den/image` (the RawImage decoders of the Image
// panel) are Lichtblick's own sources, `@mcap/core` the reader version Lichtblick pins.
// What this file restates from Lichtblick (suite-base, too entangled to import):
//   - McapIndexedIterableSource.initialize: one parseChannel per channel; alerts
//     "Missing schema info ..." and "Error in topic T (channel N): ...";
//   - DeserializingIterableSource: ONE deserializer per topic, from the topic's first
//     channel; alert "Failed to deserialize message on topic T. ..." per bad message;
//   - decodeRawImage (panels/ThreeDeeRender/renderables/Images/decodeImage.ts): the switch
//     from encoding to decoder, "Unsupported encoding E" otherwise.
// Added checks (ours, stricter than Lichtblick): chunk CRCs are validated, and a RawImage's
// data must cover step x height bytes (Lichtblick's decoders read past the end silently).
// package.json pins the versions Lichtblick's mcap-support pins, except flatbuffers_reflection
// (0.0.7 for 1.3.0, the one the registry had; used only by flatbuffer channels) and esbuild.
// Prints one JSON report per file.

import { readFile } from "node:fs/promises";

import { McapIndexedReader, McapTypes } from "@mcap/core";

import {
  decodeBGR8,
  decodeBGRA8,
  decodeFloat1c,
  decodeMono16,
  decodeMono8,
  decodeRGB8,
  decodeRGBA8,
} from "@lichtblick/den/image";
import { loadDecompressHandlers, parseChannel } from "@lichtblick/mcap-support";

type RawImage = { encoding: string; width: number; height: number; step: number; data: Uint8Array };
type TopicReport = {
  topic: string;
  schemaName?: string;
  messageEncoding: string;
  channels: number;
  messages: number;
  deserialized: number;
  imagesDecoded: number;
  encodings: Record<string, number>;
  firstMessage?: Record<string, unknown>;
  firstPixelsRGBA?: number[];
};

function decodeRawImage(image: RawImage, output: Uint8ClampedArray): void {
  const { encoding, width, height, step, data } = image;
  switch (encoding) {
    case "rgb8":
      return decodeRGB8(data, width, height, step, output);
    case "rgba8":
      return decodeRGBA8(data, width, height, step, output);
    case "bgra8":
      return decodeBGRA8(data, width, height, step, output);
    case "bgr8":
    case "8UC3":
      return decodeBGR8(data, width, height, step, output);
    case "32FC1":
      return decodeFloat1c(data, width, height, step, false, output);
    case "mono8":
    case "8UC1":
      return decodeMono8(data, width, height, step, output);
    case "mono16":
    case "16UC1":
      return decodeMono16(data, width, height, step, false, output, {});
    default:
      throw new Error(`Unsupported encoding ${encoding}`);
  }
}

function summary(message: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(message as Record<string, unknown>)) {
    if (value instanceof Uint8Array) {
      out[key] = `<${value.byteLength} bytes>`;
    } else if (typeof value === "bigint") {
      out[key] = value.toString();
    } else {
      out[key] = value;
    }
  }
  return JSON.parse(JSON.stringify(out, (_k, v) => (typeof v === "bigint" ? v.toString() : v)));
}

async function check(path: string): Promise<unknown> {
  const bytes = new Uint8Array(await readFile(path));
  const readable: McapTypes.IReadable = {
    size: async () => BigInt(bytes.byteLength),
    read: async (offset, length) => bytes.subarray(Number(offset), Number(offset + length)),
  };
  const reader = await McapIndexedReader.Initialize({
    readable,
    decompressHandlers: await loadDecompressHandlers(),
  });
  const alerts: string[] = [];
  const topics = new Map<string, TopicReport>();
  const deserializers = new Map<string, (data: ArrayBufferView) => unknown>();
  for (const channel of reader.channelsById.values()) {
    const schema = reader.schemasById.get(channel.schemaId);
    if (channel.schemaId !== 0 && schema == undefined) {
      alerts.push(
        `Missing schema info for schema id ${channel.schemaId} (channel ${channel.id}, topic ${channel.topic})`,
      );
      continue;
    }
    let parsed;
    try {
      parsed = parseChannel({ messageEncoding: channel.messageEncoding, schema });
    } catch (error) {
      alerts.push(`Error in topic ${channel.topic} (channel ${channel.id}): ${(error as Error).message}`);
      continue;
    }
    const known = topics.get(channel.topic);
    if (known) {
      known.channels += 1;
      continue;
    }
    deserializers.set(channel.topic, parsed.deserialize);
    topics.set(channel.topic, {
      topic: channel.topic,
      schemaName: schema?.name,
      messageEncoding: channel.messageEncoding,
      channels: 1,
      messages: 0,
      deserialized: 0,
      imagesDecoded: 0,
      encodings: {},
    });
  }
  const failures = new Map<string, number>();
  const fail = (text: string) => failures.set(text, (failures.get(text) ?? 0) + 1);
  for await (const message of reader.readMessages({ validateCrcs: true })) {
    const channel = reader.channelsById.get(message.channelId)!;
    const report = topics.get(channel.topic);
    const deserialize = deserializers.get(channel.topic);
    if (!report || !deserialize) {
      continue;
    }
    report.messages += 1;
    let decoded: unknown;
    try {
      decoded = deserialize(message.data);
    } catch (error) {
      fail(`Failed to deserialize message on topic ${channel.topic}. ${String(error)}`);
      continue;
    }
    report.deserialized += 1;
    report.firstMessage ??= summary(decoded);
    if (report.schemaName === "foxglove.RawImage") {
      const image = decoded as RawImage;
      report.encodings[image.encoding] = (report.encodings[image.encoding] ?? 0) + 1;
      try {
        if (image.data.byteLength < image.step * image.height) {
          throw new Error(`data has ${image.data.byteLength} bytes < step x height`);
        }
        const output = new Uint8ClampedArray(image.width * image.height * 4);
        decodeRawImage(image, output);
        report.imagesDecoded += 1;
        report.firstPixelsRGBA ??= Array.from(output.subarray(0, 8));
      } catch (error) {
        fail(`Image on ${channel.topic}: ${(error as Error).message}`);
      }
    } else if (report.schemaName === "foxglove.CompressedImage") {
      const image = decoded as { format: string; data: Uint8Array };
      report.encodings[image.format] = (report.encodings[image.format] ?? 0) + 1;
      if (image.data[0] === 0xff && image.data[1] === 0xd8) {
        report.imagesDecoded += 1; // a JPEG start; the browser's createImageBitmap decodes it
      } else {
        fail(`Image on ${channel.topic}: ${image.format} data does not start like a JPEG`);
      }
    }
  }
  for (const [text, count] of failures) {
    alerts.push(count > 1 ? `${text} (x${count})` : text);
  }
  let start: bigint | undefined;
  let end: bigint | undefined;
  for (const chunk of reader.chunkIndexes) {
    start = start == undefined || chunk.messageStartTime < start ? chunk.messageStartTime : start;
    end = end == undefined || chunk.messageEndTime > end ? chunk.messageEndTime : end;
  }
  return {
    file: path,
    library: reader.header.library,
    profile: reader.header.profile,
    chunks: reader.chunkIndexes.length,
    statistics: reader.statistics != undefined,
    start: start?.toString(),
    end: end?.toString(),
    alerts,
    topics: [...topics.values()],
  };
}

async function main(): Promise<void> {
  const reports = [];
  for (const path of process.argv.slice(2)) {
    reports.push(await check(path));
  }
  console.log(JSON.stringify(reports, undefined, 1));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
