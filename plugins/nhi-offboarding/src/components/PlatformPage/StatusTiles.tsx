import ButtonBase from '@material-ui/core/ButtonBase';
import Paper from '@material-ui/core/Paper';
import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';

const useStyles = makeStyles(theme => ({
  row: {
    display: 'grid',
    gridTemplateColumns: 'repeat(auto-fill, minmax(150px, 1fr))',
    gap: theme.spacing(2),
  },
  tile: {
    padding: theme.spacing(1.5, 2),
    width: '100%',
    textAlign: 'left',
    display: 'block',
    height: '100%',
  },
  pressed: { outline: `2px solid ${theme.palette.primary.main}` },
  attention: { color: theme.palette.error.main },
}));

export interface Tile {
  key: string;
  label: string;
  value: number | undefined;
  /** Draws attention when non-zero. */
  alarming?: boolean;
  onClick?: () => void;
  pressed?: boolean;
}

/** Counts at a glance; tiles with onClick act as filters. */
export const StatusTiles = (props: { tiles: Tile[] }) => {
  const classes = useStyles();
  return (
    <div className={classes.row}>
      {props.tiles.map(tile => {
        const body = (
          <>
            <Typography
              variant="h4"
              component="div"
              className={
                tile.alarming && tile.value ? classes.attention : undefined
              }
            >
              {tile.value ?? '–'}
            </Typography>
            <Typography variant="body2" color="textSecondary">
              {tile.label}
            </Typography>
          </>
        );
        return (
          <Paper
            key={tile.key}
            className={tile.pressed ? classes.pressed : undefined}
            data-testid={`tile-${tile.key}`}
          >
            {tile.onClick ? (
              <ButtonBase
                className={classes.tile}
                onClick={tile.onClick}
                aria-pressed={!!tile.pressed}
                aria-label={`${tile.label}: ${tile.value ?? 'unknown'}`}
              >
                {body}
              </ButtonBase>
            ) : (
              <div className={classes.tile}>{body}</div>
            )}
          </Paper>
        );
      })}
    </div>
  );
};
