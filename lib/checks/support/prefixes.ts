/** The prefix of a skip whose facts could not be read (judge lists these as not inspected). */
export const NOT_INSPECTED = 'not inspected:';
