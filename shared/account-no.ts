/** Account numbers: 12 digits, the last a Luhn check digit over the first 11. */
export const accountNoPattern = /^[0-9]{12}$/;

export function luhnCheckDigit(payload: string): number {
  let sum = 0;
  for (let i = 0; i < payload.length; i += 1) {
    const digit = payload.charCodeAt(payload.length - 1 - i) - 48;
    // The rightmost payload digit is doubled (the check digit will sit to its right).
    const doubled = i % 2 === 0 ? digit * 2 : digit;
    sum += doubled > 9 ? doubled - 9 : doubled;
  }
  return (10 - (sum % 10)) % 10;
}

export function isValidAccountNo(text: string): boolean {
  if (!accountNoPattern.test(text)) return false;
  return luhnCheckDigit(text.slice(0, 11)) === text.charCodeAt(11) - 48;
}
