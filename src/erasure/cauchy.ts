/**
 * The erasure code Arca stores, defined once in plain TypeScript: the Cauchy Reed–Solomon bit-matrix code of
 * @ronomon/reed-solomon 6.0.0 (binding.c), ported line for line so that the reference codec produces the
 * same parity bytes as the native addon. It is a Reed–Solomon code over GF(2^w) with w = 2, 4 or 8 chosen per
 * (k, m) (w = 4 for 4+2, 6+3, 8+4, 10+4, 12+4), applied as XORs of packets:
 *
 * - the m x k generator matrix has an all-ones first row (parity 0 is the XOR of the data) and Cauchy rows
 *   after it, scaled to need the fewest XORs; every element becomes a w x w bit matrix;
 * - each fragment is cut into stripes of w packets of `chunkSize(w, k, fragmentSize)` bytes; output packet a
 *   of a stripe is the XOR of the input packets whose bit is set in row a of the bit matrix.
 *
 * The packet size depends on the fragment size, so parity depends on it too: the fragment size is part of
 * the on-disk format (see segments.ts), and so is this whole file — changing it orphans stored parity.
 */
import { ArcaError } from '../common/errors.js';

/** Largest k and m the code (and the addon) supports. */
export const MAX_K = 24;
export const MAX_M = 6;

/**
 * [w, primitive polynomial, Cauchy column offset x, row offset y, ones in the bit matrix] for (k, m) at
 * PARAMETERS[k - 1][m - 1], copied from binding.c (found there by its `search()`); x = y = -1 when m <= 2.
 */
const PARAMETERS: readonly (readonly (readonly [number, number, number, number, number])[])[] = [
  [[2, 7, -1, -1, 2], [2, 7, -1, -1, 4], [2, 7, 0, 1, 6], [4, 19, 0, 1, 16], [4, 19, 0, 1, 20], [4, 19, 0, 1, 24]],
  [[2, 7, -1, -1, 4], [2, 7, -1, -1, 9], [4, 19, 0, 4, 28], [4, 19, 0, 5, 40], [4, 19, 2, 9, 51], [4, 19, 4, 10, 62]],
  [[2, 7, -1, -1, 6], [4, 19, -1, -1, 26], [4, 19, 0, 9, 44], [4, 19, 1, 8, 63], [4, 19, 1, 9, 82], [4, 19, 0, 9, 101]],
  [[4, 19, -1, -1, 16], [4, 19, -1, -1, 36], [4, 19, 0, 9, 63], [4, 19, 3, 11, 89], [4, 19, 3, 11, 116], [4, 19, 11, 4, 145]],
  [[4, 19, -1, -1, 20], [4, 19, -1, -1, 47], [4, 19, 4, 13, 82], [4, 19, 3, 12, 118], [4, 19, 0, 9, 152], [4, 19, 0, 9, 185]],
  [[4, 19, -1, -1, 24], [4, 19, -1, -1, 58], [4, 19, 2, 12, 102], [4, 19, 2, 12, 144], [4, 19, 0, 9, 186], [4, 19, 0, 9, 231]],
  [[4, 19, -1, -1, 28], [4, 19, -1, -1, 71], [4, 19, 1, 13, 123], [4, 19, 2, 12, 174], [4, 19, 0, 9, 226], [4, 19, 7, 0, 277]],
  [[4, 19, -1, -1, 32], [4, 19, -1, -1, 84], [4, 19, 2, 13, 142], [4, 19, 2, 12, 205], [4, 19, 0, 9, 265], [4, 19, 0, 8, 328]],
  [[4, 19, -1, -1, 36], [4, 19, -1, -1, 97], [4, 19, 1, 13, 162], [4, 19, 2, 12, 237], [4, 19, 0, 9, 308], [4, 19, 1, 10, 376]],
  [[4, 19, -1, -1, 40], [4, 19, -1, -1, 111], [4, 19, 1, 13, 186], [4, 19, 0, 12, 268], [4, 19, 0, 11, 347], [4, 19, 0, 10, 426]],
  [[4, 19, -1, -1, 44], [4, 19, -1, -1, 125], [4, 19, 0, 13, 211], [4, 19, 0, 12, 300], [4, 19, 0, 11, 390], [8, 135, 58, 188, 1401]],
  [[4, 19, -1, -1, 48], [4, 19, -1, -1, 139], [4, 19, 3, 0, 234], [4, 19, 0, 12, 334], [8, 113, 24, 208, 1269], [8, 135, 57, 188, 1577]],
  [[4, 19, -1, -1, 52], [4, 19, -1, -1, 155], [4, 19, 0, 13, 261], [8, 135, 59, 189, 1037], [8, 113, 27, 236, 1393], [8, 113, 27, 236, 1733]],
  [[4, 19, -1, -1, 56], [4, 19, -1, -1, 171], [8, 169, 4, 252, 777], [8, 135, 58, 189, 1121], [8, 135, 58, 189, 1508], [8, 135, 58, 188, 1880]],
  [[4, 19, -1, -1, 60], [8, 135, -1, -1, 353], [8, 113, 24, 209, 836], [8, 135, 58, 189, 1225], [8, 101, 28, 232, 1644], [8, 113, 120, 241, 2037]],
  [[8, 29, -1, -1, 128], [8, 135, -1, -1, 380], [8, 113, 22, 213, 901], [8, 113, 22, 212, 1324], [8, 101, 28, 232, 1765], [8, 101, 28, 232, 2195]],
  [[8, 29, -1, -1, 136], [8, 135, -1, -1, 407], [8, 113, 22, 213, 960], [8, 135, 58, 189, 1423], [8, 101, 27, 232, 1880], [8, 101, 27, 232, 2343]],
  [[8, 29, -1, -1, 144], [8, 135, -1, -1, 434], [8, 113, 24, 213, 1027], [8, 113, 22, 212, 1513], [8, 195, 8, 32, 2019], [8, 113, 205, 126, 2500]],
  [[8, 29, -1, -1, 152], [8, 135, -1, -1, 462], [8, 113, 22, 213, 1086], [8, 113, 23, 212, 1604], [8, 195, 7, 32, 2131], [8, 195, 3, 60, 2654]],
  [[8, 29, -1, -1, 160], [8, 135, -1, -1, 490], [8, 113, 22, 213, 1147], [8, 113, 22, 212, 1695], [8, 195, 4, 238, 2270], [8, 113, 21, 233, 2816]],
  [[8, 29, -1, -1, 168], [8, 135, -1, -1, 518], [8, 113, 21, 213, 1225], [8, 113, 21, 212, 1801], [8, 195, 3, 60, 2395], [8, 195, 3, 60, 2980]],
  [[8, 29, -1, -1, 176], [8, 135, -1, -1, 546], [8, 113, 20, 213, 1292], [8, 113, 21, 212, 1906], [8, 195, 35, 28, 2512], [8, 195, 3, 60, 3135]],
  [[8, 29, -1, -1, 184], [8, 135, -1, -1, 574], [8, 113, 19, 213, 1366], [8, 113, 19, 212, 2008], [8, 195, 3, 238, 2652], [8, 113, 205, 126, 3291]],
  [[8, 29, -1, -1, 192], [8, 135, -1, -1, 603], [8, 113, 18, 213, 1437], [8, 195, 125, 91, 2110], [8, 195, 3, 238, 2787], [8, 195, 42, 225, 3466]],
];

/**
 * Name of this code for fragment metadata, so that a later codec with another matrix (ISA-L, liberasurecode)
 * can live next to it: fragments are only decodable by the scheme that wrote them.
 */
export const CODEC_SCHEME = 'ronomon-cauchy-v1';

/** Throws InvalidConfig unless k+m is a code this module (and the addon) supports. */
export function checkCode(k: number, m: number): void {
  if (!Number.isInteger(k) || !Number.isInteger(m) || k < 1 || k > MAX_K || m < 1 || m > MAX_M) {
    throw new ArcaError('InvalidConfig', `erasure code ${k}+${m} unsupported: need 1 <= k <= ${MAX_K}, 1 <= m <= ${MAX_M}`, {
      k,
      m,
    });
  }
}

/** A (k, m) code: its field width and its encoding bit matrix (m*w rows of k*w bits, row-major). */
export interface CauchyCode {
  readonly k: number;
  readonly m: number;
  readonly w: number;
  /** Row block r (k*w*w entries from r*k*w*w) computes parity fragment r from the k data fragments. */
  readonly encoding: Uint8Array;
}

/** Builds the (k, m) code exactly as `create()` in binding.c does, checking its bit counts against the table. */
export function cauchyCode(k: number, m: number): CauchyCode {
  checkCode(k, m);
  const [w, p, x, y, ones] = PARAMETERS[k - 1][m - 1];
  const field = galoisField(w, p);
  const matrix = createMatrix(field, k, m, x, y);
  const encoding = new Uint8Array(m * w * k * w);
  let count = 0;
  for (let r = 0; r < m; r++) {
    for (let c = 0; c < k; c++) {
      let e = matrix[k * r + c];
      for (let a = 0; a < w; a++) {
        for (let b = 0; b < w; b++) {
          const bit = (e >> b) & 1;
          encoding[r * w * k * w + w * c + a + k * w * b] = bit;
          count += bit;
        }
        e = field.multiply(e, 2);
      }
    }
  }
  if (matrix.ones !== ones || count !== ones) {
    throw new ArcaError('Internal', `erasure code ${k}+${m}: bit matrix has ${count} ones, binding.c has ${ones}`);
  }
  return { k, m, w, encoding };
}

/**
 * The k*w x k*w bit matrix that rebuilds data fragments from the k fragments `sources` (ascending indexes,
 * data or parity): row block i recomputes data fragment i. Mirrors create_bitmatrix_decoding in binding.c.
 */
export function decodingBitmatrix(code: CauchyCode, sources: readonly number[]): Uint8Array {
  const { k, w, encoding } = code;
  const kw = k * w;
  const kww = k * w * w;
  const matrix = new Uint8Array(kw * kw);
  for (let a = 0; a < k; a++) {
    const s = sources[a];
    if (s < k) {
      let index = kww * a + s * w;
      for (let b = 0; b < w; b++) {
        matrix[index] = 1;
        index += kw + 1;
      }
    } else {
      matrix.set(encoding.subarray(kww * (s - k), kww * (s - k + 1)), kww * a);
    }
  }
  return invert(matrix, kw);
}

/**
 * Packet size of the code for a fragment of `fragmentSize` bytes: fragmentSize / w, halved while the k*w
 * input packets plus the output packet of a stripe would exceed 1 MiB of cache (dot_chunk_size in binding.c).
 */
export function chunkSize(w: number, k: number, fragmentSize: number): number {
  let chunk = fragmentSize / w;
  while (chunk > 64 && chunk % 2 === 0 && (1 + k * w) * chunk > 1048576) chunk /= 2;
  return chunk;
}

interface GaloisField {
  readonly bits: Int32Array;
  readonly min: Int32Array;
  multiply(a: number, b: number): number;
  divide(a: number, b: number): number;
}

/** GF(2^w) with log/exp tables, plus the ones-per-element (`bits`) and by-ones order (`min`) tables. */
function galoisField(w: number, p: number): GaloisField {
  const z = 1 << w;
  const y = z - 1;
  const log = new Int32Array(z).fill(y);
  const exp = new Int32Array(z);
  for (let a = 0, b = 1; a < y; a++) {
    log[b] = a;
    exp[a] = b;
    b <<= 1;
    if (b & z) b = (b ^ p) & y;
  }
  const multiply = (a: number, b: number): number => (a === 0 || b === 0 ? 0 : exp[(log[a] + log[b]) % y]);
  const divide = (a: number, b: number): number => (a === 0 ? 0 : exp[(log[a] + y - log[b]) % y]);
  const bits = new Int32Array(z);
  for (let n = 0; n < z; n++) {
    let e = n;
    for (let r = 0; r < w; r++) {
      for (let c = 0; c < w; c++) bits[n] += (e >> c) & 1;
      e = multiply(e, 2);
    }
  }
  const min = new Int32Array(z);
  for (let a = 1; a < z; a++) {
    const c = min[a - 1];
    let d = -1;
    for (let b = 1; b < z; b++) {
      if (bits[b] < bits[c]) continue;
      if (bits[b] === bits[c] && b <= c) continue;
      if (d === -1 || bits[b] < bits[d]) d = b;
    }
    min[a] = d;
  }
  return { bits, min, multiply, divide };
}

/** The m x k generator rows below the identity (create_matrix in binding.c), with its ones count. */
function createMatrix(field: GaloisField, k: number, m: number, x: number, y: number): Int32Array & { ones: number } {
  const { bits, min, divide } = field;
  const matrix = Object.assign(new Int32Array(m * k), { ones: bits[1] * k });
  // Row 0 is all ones: parity 0 is the XOR of the data fragments.
  for (let c = 0; c < k; c++) matrix[c] = 1;
  if (m === 2) {
    // Row 1: the field elements with the fewest ones in their bit matrices.
    for (let c = 0; c < k; c++) {
      matrix[k + c] = min[c + 1];
      matrix.ones += bits[matrix[k + c]];
    }
  } else if (m > 2) {
    for (let r = 0; r < m; r++) {
      for (let c = 0; c < k; c++) matrix[r * k + c] = divide(1, (y + r) ^ (x + c));
    }
    // Scale columns so row 0 becomes all ones (row 0 last, it is the divisor).
    for (let r = 1; r < m; r++) {
      for (let c = 0; c < k; c++) matrix[r * k + c] = divide(matrix[r * k + c], matrix[c]);
    }
    for (let c = 0; c < k; c++) matrix[c] = divide(matrix[c], matrix[c]);
    // Scale each further row by the element that leaves it with the fewest ones.
    for (let r = 1; r < m; r++) {
      const rk = r * k;
      let result = 0;
      let column = -1;
      for (let c = 0; c < k; c++) result += bits[matrix[rk + c]];
      for (let c = 0; c < k; c++) {
        let ones = 0;
        for (let d = 0; d < k; d++) ones += bits[divide(matrix[rk + d], matrix[rk + c])];
        if (ones < result) {
          result = ones;
          column = matrix[rk + c];
        }
      }
      if (column >= 0) {
        for (let c = 0; c < k; c++) matrix[rk + c] = divide(matrix[rk + c], column);
      }
      matrix.ones += result;
    }
  }
  return matrix;
}

/** Gauss–Jordan inverse over GF(2) of the n x n `source` (consumed), as create_bitmatrix_decoding_invert. */
function invert(source: Uint8Array, n: number): Uint8Array {
  const target = new Uint8Array(n * n);
  for (let i = 0; i < n; i++) target[i * n + i] = 1;
  const swapRows = (matrix: Uint8Array, a: number, b: number): void => {
    for (let i = 0; i < n; i++) {
      const t = matrix[a * n + i];
      matrix[a * n + i] = matrix[b * n + i];
      matrix[b * n + i] = t;
    }
  };
  const xorRow = (matrix: Uint8Array, into: number, from: number): void => {
    for (let i = 0; i < n; i++) matrix[into * n + i] ^= matrix[from * n + i];
  };
  for (let c = 0; c < n; c++) {
    if (source[c * n + c] === 0) {
      let r = c + 1;
      while (r < n && source[r * n + c] === 0) r++;
      if (r === n) throw new ArcaError('Internal', 'erasure decoding matrix is singular');
      swapRows(source, c, r);
      swapRows(target, c, r);
    }
    for (let r = c + 1; r < n; r++) {
      if (source[r * n + c] !== 0) {
        xorRow(source, r, c);
        xorRow(target, r, c);
      }
    }
  }
  for (let r = n - 1; r >= 0; r--) {
    for (let c = 0; c < r; c++) {
      if (source[c * n + r]) {
        xorRow(source, c, r);
        xorRow(target, c, r);
      }
    }
  }
  return target;
}
