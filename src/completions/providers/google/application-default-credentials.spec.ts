import { defaultCredentialSource, gcloudAdcFile } from './application-default-credentials';

describe('Application Default Credentials: where they come from, decided at boot without network', () => {
  const exists = (path: string): boolean => path.startsWith('/present/');

  it('gcloud\'s ADC file as gcloud finds it: CLOUDSDK_CONFIG, else ~/.config/gcloud, else %APPDATA%\\gcloud on Windows', () => {
    expect(gcloudAdcFile({ CLOUDSDK_CONFIG: '/etc/gcloud', HOME: '/home/u' }, 'linux')).toBe('/etc/gcloud/application_default_credentials.json');
    expect(gcloudAdcFile({ HOME: '/home/u' }, 'darwin')).toBe('/home/u/.config/gcloud/application_default_credentials.json');
    expect(gcloudAdcFile({ APPDATA: 'C:/Users/u/AppData/Roaming', HOME: '/ignored' }, 'win32')).toMatch(/^C:\/Users\/u\/AppData\/Roaming[\\/]gcloud[\\/]application_default_credentials\.json$/);
    expect(gcloudAdcFile({ CLOUDSDK_CONFIG: ' ' }, 'linux')).toBeNull();
    expect(gcloudAdcFile({}, 'win32')).toBeNull();
  });

  it('the file when it exists, else the metadata server (no probe: a missing server is the first call\'s error)', () => {
    expect(defaultCredentialSource({ CLOUDSDK_CONFIG: '/present/gcloud' }, 'linux', exists)).toEqual({ kind: 'gcloud-file', path: '/present/gcloud/application_default_credentials.json' });
    expect(defaultCredentialSource({ HOME: '/absent' }, 'linux', exists)).toEqual({ kind: 'metadata-server' });
    expect(defaultCredentialSource({}, 'linux', exists)).toEqual({ kind: 'metadata-server' });
  });
});
