// A minimal in-memory ustar writer: enough to hand a few small files to Docker's putArchive. Pure.

export interface TarFile {
  /** Path relative to the extraction folder. */
  path: string;
  content: string | Buffer;
  mode?: number;
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

export function tarOf(files: TarFile[], mtime = new Date()): Buffer {
  const blocks: Buffer[] = [];
  for (const f of files) {
    const body = Buffer.isBuffer(f.content) ? f.content : Buffer.from(f.content, 'utf8');
    if (Buffer.byteLength(f.path) > 99) throw new Error(`tar: path too long: ${f.path}`);
    const header = Buffer.alloc(512);
    header.write(f.path, 0, 'utf8');
    header.write(octal(f.mode ?? 0o644, 8), 100);
    header.write(octal(0, 8), 108); // uid root
    header.write(octal(0, 8), 116); // gid root
    header.write(octal(body.length, 12), 124);
    header.write(octal(Math.floor(mtime.getTime() / 1000), 12), 136);
    header.write('        ', 148); // checksum is computed with spaces here
    header.write('0', 156);
    header.write('ustar\0', 257);
    header.write('00', 263);
    let sum = 0;
    for (const b of header) sum += b;
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    blocks.push(header, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}
