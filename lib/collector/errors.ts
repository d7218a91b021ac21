/** The collector's output could not be read as a collector document. */
export class CollectorDocumentError extends Error {
  override readonly name = 'CollectorDocumentError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
