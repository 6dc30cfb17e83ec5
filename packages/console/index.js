// Where the console's static files are, for the server to serve (`consoleRoutes({ dir: consoleDir })`).
export const consoleDir = new URL('./public/', import.meta.url);
