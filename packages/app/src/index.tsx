// Styles of Backstage UI, which recent core-components and catalog cards use.
import '@backstage/ui/css/styles.css';

import ReactDOM from 'react-dom/client';
import App from './App';

ReactDOM.createRoot(document.getElementById('root')!).render(<App />);
