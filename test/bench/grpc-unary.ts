/** A raw-bytes gRPC unary client, so the same load generator can drive our members and etcd alike. */
import * as grpc from '@grpc/grpc-js';

const identity = (value: Buffer): Buffer => value;

export class RawUnaryClient {
  private readonly client: grpc.Client;

  constructor(address: string) {
    this.client = new grpc.Client(address, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': 16 * 1024 * 1024,
    });
  }

  call(path: string, request: Buffer, timeoutMs = 10_000): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(path, identity, identity, request, { deadline: Date.now() + timeoutMs }, (error, response) => {
        if (error) reject(error);
        else if (response) resolve(response);
        else reject(new Error('empty response'));
      });
    });
  }

  close(): void {
    this.client.close();
  }
}

/** etcd's PutRequest { bytes key = 1; bytes value = 2; } in protobuf wire format. */
export function etcdPutRequest(key: Buffer, value: Buffer): Buffer {
  return Buffer.concat([protobufBytesField(1, key), protobufBytesField(2, value)]);
}

function protobufBytesField(field: number, bytes: Buffer): Buffer {
  const header: number[] = [(field << 3) | 2];
  let length = bytes.length;
  while (length >= 0x80) {
    header.push((length & 0x7f) | 0x80);
    length >>>= 7;
  }
  header.push(length);
  return Buffer.concat([Buffer.from(header), bytes]);
}
