import fs from 'node:fs';
import path from 'node:path';

/** Each app's bare repository under one folder: where it is, made on demand, removed with the app. */
export class RepoStore {
  constructor(private readonly reposDir: string) {}

  repoDir(app: string): string {
    return path.join(this.reposDir, `${app}.git`);
  }

  /** The repo, made (bare, branch main) when missing; its path. */
  async ensureRepo(app: string): Promise<string> {
    const dir = this.repoDir(app);
    if (!fs.existsSync(path.join(dir, 'HEAD'))) {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      const { simpleGit } = await import('simple-git');
      await simpleGit(dir).init(true, ['--quiet', '--initial-branch=main']);
    }
    return dir;
  }

  removeRepo(app: string): void {
    fs.rmSync(this.repoDir(app), { recursive: true, force: true });
  }
}
