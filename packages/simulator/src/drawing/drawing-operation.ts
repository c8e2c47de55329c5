/** The provider's two calls. */
export type DrawingOperation = 'submit' | 'query';
