import { describe, expect, it } from 'vitest';
import { isValidAccountNo, luhnCheckDigit } from '../../shared/account-no';

describe('account numbers', () => {
  it('computes the Luhn check digit of known numbers', () => {
    // 7992739871 -> 3 is the textbook Luhn example.
    expect(luhnCheckDigit('7992739871')).toBe(3);
    expect(luhnCheckDigit('40000000000')).toBe(2);
  });

  it('accepts 12 digits with a right check digit', () => {
    expect(isValidAccountNo('400000000002')).toBe(true);
  });

  it.each([
    ['400000000006', 'wrong check digit'],
    ['40000000002', '11 digits'],
    ['4000000000020', '13 digits'],
    ['40000000000a', 'a letter'],
    ['', 'empty'],
    ['４00000000002', 'a full-width digit'],
  ])('refuses %s (%s)', (text) => {
    expect(isValidAccountNo(text)).toBe(false);
  });

  it('detects every single-digit error in a valid number', () => {
    const valid = '721145463650';
    expect(isValidAccountNo(valid)).toBe(true);
    for (let i = 0; i < valid.length; i += 1) {
      for (let d = 0; d <= 9; d += 1) {
        const digit = String(d);
        if (digit === valid[i]) continue;
        const changed = `${valid.slice(0, i)}${digit}${valid.slice(i + 1)}`;
        expect(isValidAccountNo(changed), changed).toBe(false);
      }
    }
  });
});
