import './index.css';
import './panel.css';
