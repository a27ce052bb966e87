/**
 * The negative control of the template tests: build templates without the lock, to show that the tests catch
 * a double build. Never set it.
 */
export const UNSAFE_NO_TEMPLATE_LOCK = process.env.SQL_HELPERS_UNSAFE_NO_TEMPLATE_LOCK === '1';
