/** The folder of the console's static files (index.html, js/, vendor/), as a file: URL. */
export declare const consoleDir: URL;
