import { writeFile } from 'node:fs/promises';
import { generateTypes, typesFile } from './types';

await writeFile(typesFile, await generateTypes());
console.log(`wrote ${typesFile.pathname.split('/').slice(-4).join('/')}`);
