/**
 * Exact non-negative rational numbers (BigInt numerator / denominator), for probabilities:
 * products of the kernel's k / 2^31 branch probabilities are kept exactly and only turned
 * into a floating-point number for display.
 */
export class Rational {
  private constructor(
    readonly numerator: bigint,
    readonly denominator: bigint,
  ) {}

  static readonly ZERO = new Rational(0n, 1n);
  static readonly ONE = new Rational(1n, 1n);

  static of(numerator: bigint | number, denominator: bigint | number = 1n): Rational {
    let n = BigInt(numerator);
    let d = BigInt(denominator);
    if (d === 0n) throw new RangeError('zero denominator');
    if (d < 0n) {
      n = -n;
      d = -d;
    }
    const g = gcd(n < 0n ? -n : n, d);
    return g > 1n ? new Rational(n / g, d / g) : new Rational(n, d);
  }

  add(o: Rational): Rational {
    return Rational.of(this.numerator * o.denominator + o.numerator * this.denominator, this.denominator * o.denominator);
  }

  sub(o: Rational): Rational {
    return Rational.of(this.numerator * o.denominator - o.numerator * this.denominator, this.denominator * o.denominator);
  }

  mul(o: Rational): Rational {
    return Rational.of(this.numerator * o.numerator, this.denominator * o.denominator);
  }

  div(o: Rational): Rational {
    return Rational.of(this.numerator * o.denominator, this.denominator * o.numerator);
  }

  isZero(): boolean {
    return this.numerator === 0n;
  }

  equals(o: Rational): boolean {
    return this.numerator === o.numerator && this.denominator === o.denominator;
  }

  compare(o: Rational): number {
    const l = this.numerator * o.denominator;
    const r = o.numerator * this.denominator;
    return l < r ? -1 : l > r ? 1 : 0;
  }

  /** The nearest double (exact division of the integer parts, then the remainder). */
  toNumber(): number {
    const whole = this.numerator / this.denominator;
    const rest = this.numerator % this.denominator;
    // Scale the remainder so that both operands fit a double's exponent range with 64 bits to spare.
    const shift = BigInt(Math.max(0, this.denominator.toString(2).length - 1000));
    return Number(whole) + Number(rest >> shift) / Number(this.denominator >> shift);
  }

  toString(): string {
    return this.denominator === 1n ? this.numerator.toString() : `${this.numerator}/${this.denominator}`;
  }
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a === 0n ? 1n : a;
}
